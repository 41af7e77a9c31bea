// Package httpretry is the HTTP plumbing the source clients (extract/graph,
// extract/ringcentral) share: base URLs and same-origin checks, a redirect
// policy that never leaves the origin, backoff and Retry-After, the retry
// loop with its error kinds, and body reads bounded in size, in progress and
// in the bytes all answers hold at once. Token caches and rate limiters stay
// with each client: they differ per source. delivery's Graph calls use
// ParseRetryAfter and Sleep.
package httpretry
