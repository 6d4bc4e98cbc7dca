// Package publish stores built TechDocs sites in object storage and serves
// their files back, in the layout Backstage's TechDocs publishers use, so a
// bucket written by techdocs-cli or by Backstage itself is read as it is and
// the other way round.
//
// A site is the static directory the docs builder writes: HTML pages,
// assets, techdocs_metadata.json and search/search_index.json. It lives under
//
//	<bucketRootPath>/<namespace>/<kind>/<name>/<file>
//
// with the entity triplet lower-cased, as Backstage does by default
// (techdocs.legacyUseCaseSensitiveTripletPaths keeps its case). One
// Publisher, built on gocloud.dev/blob, serves every backend: a local
// directory, Amazon S3 and S3-compatible servers, Google Cloud Storage and
// Azure Blob Storage. New picks the backend from Config, which mirrors
// Backstage's techdocs.publisher keys.
package publish
