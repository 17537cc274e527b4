package database

import (
	"database/sql"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/ent"
)

// TxClient is an ent client whose statements run on tx, a transaction of
// hand-written SQL. A component that must write a row in the same
// transaction as its own statements (an audit event beside the change that
// caused it) writes it through ent's generated builder this way, so that
// the columns, enums and defaults are the schema's and not typed twice.
func TxClient(dialectName string, tx *sql.Tx) *ent.Client {
	return ent.NewClient(ent.Driver(entsql.NewDriver(dialectName, entsql.Conn{ExecQuerier: tx})))
}
