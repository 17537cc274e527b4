// Package graph is Sluice's GraphQL admin API: the schema in *.graphqls,
// the resolvers beside it. graph/generated and graph/model are written by
// gqlgen and never edited by hand.
package graph

// gqlgen resolves the paths in gqlgen.yml from the working directory, so it
// runs from the repository root; ent's generator has already written
// ent.graphqls because go generate visits ./ent before ./graph.
//go:generate go -C .. tool gqlgen generate
