//go:build unix

package fileread

import "syscall"

// openNonBlock keeps the open of a FIFO from waiting for a writer; regular files ignore it.
const openNonBlock = syscall.O_NONBLOCK
