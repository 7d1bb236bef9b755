package stepexec

import "syscall"

// sysProcAttr puts a step in a process group of its own and has the
// kernel kill it when the worker dies (see lifetime.go).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
