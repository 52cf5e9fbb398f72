package ledger

// SetAccessCommitHook runs hook inside each commit of an access log (see
// accessCommitHook) until restore is called.
func SetAccessCommitHook(hook func(records int) error) (restore func()) {
	accessCommitHook = hook
	return func() { accessCommitHook = nil }
}

// AccessQueued is how many appends wait for a's next commit.
func AccessQueued(a *AccessLog) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}
