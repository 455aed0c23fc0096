package huaweicloud

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// ErrDeferred marks a call that sent nothing: its context ended, or its budget had no room, before any
// of its attempts went on the wire. The job was not asked, so nothing was learnt about it: a caller keeps
// what it knew and asks again later, and it does not count the call as a failure of the job. Reason still
// tells why: throttled when a rate limit held it back, timeout when the deadline came first.
var ErrDeferred = errors.New("not sent")

// Deferred tells whether err says that a call sent nothing (see ErrDeferred).
func Deferred(err error) bool { return errors.Is(err, ErrDeferred) }

func deferred(err error) error { return fmt.Errorf("%w: %w", ErrDeferred, err) }

// admission takes one call of the client through its gates, asked before every attempt and in this
// order, each cheaper to ask than the next and none waiting for a later one:
//
//  1. permission: a (key, service, project) backed off after a 403 sends nothing (permitted);
//  2. the project's budget: its fixed rate_limit, when one is configured (off by default: the cloud's
//     own 429s set the pace, see the adaptive limit);
//  3. the adaptive limit of the endpoint and key, which slows down once the cloud throttles;
//  4. the key gate: a key not known to work lets one probe through, the others wait for its answer (admit).
//
// After the attempt, leave tells each gate what it learnt. The collector schedules the calls across
// projects; everything a single call waits for is here.
type admission struct {
	c    *Client
	pk   permKey
	proj *rate.Limiter    // the project's fixed rate_limit; nil: none
	lim  *adaptiveLimiter // nil: the adaptive limit is off
}

func (c *Client) admission(t Target, host, ak string) admission {
	return admission{c: c, pk: permKey{ak, t.Service, t.ProjectID}, proj: c.projects.get(t), lim: c.limiter(host, ak)}
}

// enter passes the gates for one attempt. An error wrapping ErrDeferred means this attempt is not sent
// because ctx ended or a rate limit has no room before ctx's deadline.
func (a admission) enter(ctx context.Context) (pass, error) {
	c := a.c
	if err := c.permitted(a.pk); err != nil {
		return pass{}, err
	}
	// A call that reaches the gates after its deadline timed out: no limit held it back.
	if err := c.expired(ctx); err != nil {
		return pass{}, deferred(err)
	}
	if a.proj != nil {
		if err := c.pace(ctx, a.proj); err != nil {
			return pass{}, deferred(err)
		}
	}
	if a.lim != nil {
		if err := a.lim.wait(ctx, c.now, c.sleep); err != nil {
			return pass{}, deferred(fmt.Errorf("%w: %w", errPaced, err))
		}
	}
	p, err := c.admit(ctx, a.pk.ak)
	if err != nil {
		if ctx.Err() != nil {
			return pass{}, deferred(err)
		}
		return pass{}, err
	}
	if err := c.expired(ctx); err != nil {
		c.settle(a.pk.ak, p, 0)
		if a.lim != nil && a.lim.holding(c.now()) {
			// It was alive when it reached the limit, which held it until the end: throttled.
			err = fmt.Errorf("%w: %w", errPaced, err)
		}
		return pass{}, deferred(err)
	}
	return p, nil
}

// expired returns the error of a context that ended, by the client's clock as well as its own.
func (c *Client) expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !c.now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// leave tells the gates what one attempt learnt: the adaptive limit hears of 429s and successes, the
// key gate whether the key works (an answer of the gateway other than an authentication failure proves
// it does; no answer proves nothing), the permission gate of 403s.
func (a admission) leave(p pass, err error) {
	c, ak := a.c, a.pk.ak
	var apiErr *APIError
	isAPI := errors.As(err, &apiErr)
	if a.lim != nil {
		if isAPI && apiErr.Throttled() {
			a.lim.throttled(c.now(), apiErr.RetryAfter)
		} else if err == nil {
			a.lim.succeeded()
		}
	}
	switch {
	case err == nil:
		c.settle(ak, p, 1)
		c.allowed(a.pk)
	case !isAPI:
		c.settle(ak, p, 0)
	case apiErr.AuthFailure():
		c.settle(ak, p, -1)
	case apiErr.Permission():
		c.settle(ak, p, 1)
		c.denied(a.pk)
	default:
		c.settle(ak, p, 1)
		c.allowed(a.pk)
	}
}

// retryWait returns how long to wait before attempt+1 after err, or false when err is final: not
// retryable, the attempts are spent, or the wait would end past ctx's deadline (waiting only to fail is
// worse than failing now with the real reason).
func (c *Client) retryWait(ctx context.Context, err error, attempt int) (time.Duration, bool) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.AuthFailure() || apiErr.Permission() || !apiErr.Retryable() || attempt >= c.attempts {
		return 0, false
	}
	wait := max(c.backoff(attempt), apiErr.RetryAfter)
	if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
		return 0, false
	}
	return wait, true
}
