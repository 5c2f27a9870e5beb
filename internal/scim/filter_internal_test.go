package scim

import (
	"errors"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestFilterOperators: an operator that does not apply to an attribute is refused by
// the parser, naming the attribute as the client wrote it in SCIM; one that applies
// is given to the store under the domain's field.
func TestFilterOperators(t *testing.T) {
	for _, c := range []struct {
		filter string
		users  bool
		want   string // the error; "" when it parses
	}{
		{`active gt true`, true, "invalid filter: operator gt does not apply to active"},
		{`meta.created co "2011-05-13T04:42:34Z"`, true, `invalid filter: operator co does not apply to meta.created`},
		{`emails.value le "x"`, true, "invalid filter: operator le does not apply to emails.value"},
		{`emails[primary sw true]`, true, "invalid filter: operator sw does not apply to primary"},
		{`members.value gt "x"`, false, "invalid filter: operator gt does not apply to members.value"},
		{`userName gt "x" and active eq true and emails.value co "@"`, true, ""},
		{`members.value eq "x" and meta.lastModified lt "2011-05-13T04:42:34Z"`, false, ""},
	} {
		resolve, values := userResolver, userValues
		if !c.users {
			resolve, values = groupResolver, groupValues
		}
		f, err := parseFilter(c.filter, resolve, values)
		var fe *filterError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.filter, err)
		case c.want != "" && (!errors.As(err, &fe) || err.Error() != c.want):
			t.Errorf("%s: %v, want %q", c.filter, err, c.want)
		}
		if c.want != "" || err != nil {
			continue
		}
		q := f.query()
		if q.Op != account.OpAnd {
			t.Fatalf("%s: %+v", c.filter, q)
		}
		if c.users && q.Left.Op != account.OpAnd {
			t.Fatalf("%s: %+v", c.filter, q)
		}
		if c.users && (q.Left.Left.Field != account.FieldUserName || q.Left.Right.Field != account.FieldActive ||
			q.Right.Field != account.FieldEmail || q.Right.Op != account.OpContains) {
			t.Errorf("%s: fields %s %s %s", c.filter, q.Left.Left.Field, q.Left.Right.Field, q.Right.Field)
		}
		if !c.users && (q.Left.Field != account.FieldMember || q.Right.Field != account.FieldModified) {
			t.Errorf("%s: fields %s %s", c.filter, q.Left.Field, q.Right.Field)
		}
	}
}
