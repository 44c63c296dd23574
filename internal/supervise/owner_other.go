//go:build !linux

package supervise

import (
	"context"
	"errors"
	"net"
)

var errNoOwnerInfo = errors.New("socket owners are not visible on this system")

// acceptedBy cannot attribute connections outside Linux.
func acceptedBy(ctx context.Context, conn *net.TCPConn, pid int) (bool, error) {
	return false, errNoOwnerInfo
}
