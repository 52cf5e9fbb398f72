package ledger

// SetBackupPause makes every backup of this process run pause after its
// first write: the backup fault test kills the process there.
func SetBackupPause(pause func()) { backupPause = pause }
