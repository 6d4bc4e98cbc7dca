// Package auth owns who a request comes from: the signed-in user or
// service behind it (Identity), the tokens and browser sessions that
// prove it, the keys that sign them, and the sign-in providers that
// establish it. Identity travels in the request's context, and becomes
// the audit log's actor.
package auth
