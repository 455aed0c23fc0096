//go:build !unix

package fileread

// openNonBlock is 0 where there are no FIFOs to open by mistake.
const openNonBlock = 0
