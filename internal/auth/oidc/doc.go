// Package oidc owns sign-in through a generic OpenID Connect provider,
// configured as Backstage's auth.providers.oidc.<environment> is: it sends
// the browser to the provider (authorization code flow with PKCE, state
// and nonce), verifies the ID token that comes back, maps the signed-in
// person to a catalog User with the configured sign-in resolvers, and
// hands the resulting auth.Identity to a SessionStarter.
//
// Everything the callback needs travels in one short-lived, encrypted
// cookie, so a sign-in started on one replica can finish on another.
// Failures send the browser to the sign-in page with a short error code
// (ErrorCode); the details go to the log only.
package oidc
