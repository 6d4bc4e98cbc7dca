package app

import "context"

// StaleFacets exposes staleFacets to the external tests.
const StaleFacets = staleFacets

// RunWorkersForTest runs the scaffolder's task runner until ctx ends, for
// tests that serve the app's handler without Run.
func (a *App) RunWorkersForTest(ctx context.Context) { _ = a.runner.Run(ctx) }
