package ledger_test

import (
	"context"

	"github.com/pumpledger/pumpledger"
)

// as is the context of a use case recorded by by; bg that of a read.
func as(by string) context.Context {
	return pumpledger.WithActor(context.Background(), pumpledger.Actor{Name: by, Role: pumpledger.RoleClinic})
}

var bg = context.Background()
