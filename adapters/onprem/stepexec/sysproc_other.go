//go:build !linux

package stepexec

import "syscall"

// sysProcAttr puts a step in a process group of its own. Outside Linux
// there is no parent-death signal; only the sweep (lifetime.go) stops
// steps a dead worker left behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
