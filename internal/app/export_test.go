package app

// StaleFacets exposes staleFacets to the external tests.
const StaleFacets = staleFacets
