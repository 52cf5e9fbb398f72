package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/pumpledger/pumpledger"
	"github.com/pumpledger/pumpledger/clinic"
	"github.com/pumpledger/pumpledger/ledger"
	"github.com/pumpledger/pumpledger/web"
)

// serve opens the ledger once, for days, and serves it (package web)
// until SIGINT or SIGTERM, when it stops taking requests, lets those under
// way finish, and closes the ledger.
func (a *app) serve(args []string) error {
	fs := a.flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback by default; give a certificate to listen beyond it)")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	idle := fs.Duration("idle", web.DefaultIdle, "sign a session out after this long unused (HIPAA automatic logoff)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return usageErr("serve needs both --tls-cert and --tls-key, or neither")
	}
	if *idle <= 0 {
		return pumpledger.Invalid("idle", "--idle %s must be a positive duration like 15m.", *idle)
	}
	if _, err := a.catalogFile(); err != nil {
		return err
	}
	if err := a.notServed("start another"); err != nil {
		return err
	}
	db, err := clinic.Open(a.dbPath, ledger.Options{Batch: true})
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return pumpledger.Invalid("addr", "Cannot listen on --addr %s (%v); give a free host:port.", *addr, err)
	}
	log := slog.New(slog.NewTextHandler(a.stderr, nil))
	// The other commands run through the server while it holds the
	// ledger (local.go); without the socket they wait for it to stop.
	loc, lerr := listenLocal(a.dbPath, db, log)
	if lerr != nil {
		log.Warn("other commands cannot run while the server holds the ledger", "socket", sockPath(a.dbPath), "err", lerr)
	} else {
		defer loc.close()
	}
	srv := &http.Server{
		Handler:           web.New(web.Config{Ledger: db, UsersPath: web.UsersPath(a.dbPath), Idle: *idle, TLS: *cert != "", Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a year's bill
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() {
		if *cert != "" {
			done <- srv.ServeTLS(ln, *cert, *key)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	scheme := map[bool]string{true: "https", false: "http"}[*cert != ""]
	fmt.Fprintf(a.stdout, "Serving %s at %s://%s/ (stop with Ctrl-C).\n", a.dbPath, scheme, ln.Addr())
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			return pumpledger.Errorf(pumpledger.EINTERNAL, "serve: %v", err)
		}
		return nil
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shut)
	fmt.Fprintf(a.stdout, "Stopped.\n")
	return err
}
