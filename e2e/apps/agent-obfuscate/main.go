// The Datadog Agent's own obfuscator (github.com/DataDog/datadog-agent/pkg/obfuscate), configured as
// the trace-agent configures it from DD_APM_SQL_OBFUSCATION_MODE and DD_APM_FEATURES, for the
// e2e tests to compare ecs-trace's obfuscation with. One JSON request per stdin line, one JSON
// answer per stdout line:
//
//	{"kind":"sql","query":"...","dbms":"postgres","mode":"obfuscate_and_normalize","features":["table_names"]}
//	{"kind":"url","query":"http://...","removeQueryString":true,"removePathDigits":true}
//	-> {"out":"...","tables":"a,b"} or {"error":"..."}
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/DataDog/datadog-agent/pkg/obfuscate"
)

type request struct {
	Kind              string   `json:"kind"`
	Query             string   `json:"query"`
	DBMS              string   `json:"dbms"`
	Mode              string   `json:"mode"`
	Features          []string `json:"features"`
	RemoveQueryString bool     `json:"removeQueryString"`
	RemovePathDigits  bool     `json:"removePathDigits"`
}

type answer struct {
	Out    string `json:"out"`
	Tables string `json:"tables,omitempty"`
	Error  string `json:"error,omitempty"`
}

func sqlObfuscator(r request) *obfuscate.Obfuscator {
	has := func(f string) bool { return slices.Contains(r.Features, f) }
	mode := obfuscate.ObfuscationMode(r.Mode)
	if mode == "" && has("sqllexer") {
		mode = obfuscate.ObfuscateOnly
	}
	return obfuscate.NewObfuscator(obfuscate.Config{SQL: obfuscate.SQLConfig{
		TableNames:       has("table_names"),
		ReplaceDigits:    has("quantize_sql_tables") || has("replace_sql_digits"),
		KeepSQLAlias:     has("keep_sql_alias"),
		DollarQuotedFunc: has("dollar_quoted_func"),
		ObfuscationMode:  mode,
	}})
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	cache := map[string]*obfuscate.Obfuscator{}
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(2)
		}
		var a answer
		switch r.Kind {
		case "sql":
			key := r.Mode + "|" + strings.Join(r.Features, ",")
			o, ok := cache[key]
			if !ok {
				o = sqlObfuscator(r)
				cache[key] = o
			}
			q, err := o.ObfuscateSQLStringForDBMS(r.Query, r.DBMS)
			if err != nil {
				a.Error = err.Error()
			} else {
				a.Out, a.Tables = q.Query, q.Metadata.TablesCSV
			}
		case "url":
			o := obfuscate.NewObfuscator(obfuscate.Config{HTTP: obfuscate.HTTPConfig{RemoveQueryString: r.RemoveQueryString, RemovePathDigits: r.RemovePathDigits}})
			a.Out = o.ObfuscateURLString(r.Query)
		default:
			a.Error = "unknown kind " + r.Kind
		}
		if err := enc.Encode(a); err != nil {
			os.Exit(1)
		}
		out.Flush()
	}
}
