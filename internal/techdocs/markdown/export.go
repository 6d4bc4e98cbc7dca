package markdown

// Sanitize passes HTML through the allow-list Render's output passes
// through: for HTML built elsewhere (a site CI published) before it
// reaches a page.
func Sanitize(html []byte) []byte { return policy.SanitizeBytes(html) }
