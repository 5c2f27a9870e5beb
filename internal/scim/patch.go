package scim

import (
	"slices"
	"strings"
)

// maxPatchOps bounds the operations of one PATCH request.
const maxPatchOps = 100

// patchOp is one operation of a PatchOp message.
type patchOp struct {
	op    string // add, replace or remove (any case in the request)
	path  string
	value any
	has   bool // value was given
}

// patchOps reads the Operations of a PatchOp body.
func patchOps(body map[string]any) ([]patchOp, error) {
	raw, _ := field(body, "Operations")
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, invalidSyntax("a PatchOp needs Operations")
	}
	if len(list) > maxPatchOps {
		return nil, invalidValue("at most 100 operations")
	}
	ops := make([]patchOp, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, invalidSyntax("each operation is an object")
		}
		op := patchOp{op: strings.ToLower(str(m, "op")), path: strings.TrimSpace(str(m, "path"))}
		op.value, op.has = field(m, "value")
		switch op.op {
		case "add", "replace":
			if !op.has {
				return nil, invalidValue(op.op + " needs a value")
			}
		case "remove":
			if op.path == "" {
				return nil, &Error{Status: 400, Type: "noTarget", Detail: "remove needs a path"}
			}
		default:
			return nil, invalidValue("op must be add, replace or remove")
		}
		ops[i] = op
	}
	return ops, nil
}

// readOnly are the attributes a PATCH may not change.
var readOnly = map[string]bool{"id": true, "meta": true, "schemas": true, "groups": true}

// applyPatch applies ops to a rendered resource r (RFC 7644 §3.5.2), which is then
// read back as the resource's new state.
func applyPatch(r map[string]any, ops []patchOp) error {
	for _, op := range ops {
		if op.path == "" {
			vals, ok := op.value.(map[string]any)
			if !ok {
				return invalidValue(op.op + " without a path needs an object value")
			}
			for k, v := range vals {
				if err := applyPath(r, op.op, k, v, true); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyPath(r, op.op, op.path, op.value, op.has); err != nil {
			return err
		}
	}
	return nil
}

// applyPath applies one operation at path: attr, attr.sub, attr[filter],
// attr[filter].sub, or an extension's URN with its attribute (and sub-attribute,
// as in …:User:manager.value). has tells whether the operation gave a value: a
// remove with a value removes only those values of a multi-valued attribute (what
// Entra ID sends to take one member out of a group).
func applyPath(r map[string]any, op, path string, value any, has bool) error {
	attr, filter, sub, err := splitPath(path)
	if err != nil {
		return err
	}
	if readOnly[strings.ToLower(attr)] {
		// An id given back unchanged (Okta renames a group with {id, displayName}) is
		// no change.
		if strings.EqualFold(attr, "id") && op != "remove" && filter == nil && sub == "" &&
			scalarText(value) != "" && scalarText(value) == scalarText(r["id"]) {
			return nil
		}
		return &Error{Status: 400, Type: "mutability", Detail: attr + " cannot be changed"}
	}
	if attr == enterpriseURN {
		return applyEnterprise(r, op, sub, value)
	}
	cur, _ := field(r, attr)
	if filter == nil {
		if sub == "" {
			list, isList := cur.([]any)
			switch op {
			case "remove":
				if has && value != nil && isList {
					gone, _ := asList(value)
					kept := []any{}
					for _, x := range list {
						if !slices.ContainsFunc(gone, func(g any) bool { return sameValue(attr, g, x) }) {
							kept = append(kept, x)
						}
					}
					setField(r, attr, kept)
				} else {
					deleteField(r, attr)
				}
			case "add":
				if add, ok := asList(value); isList && ok {
					merged, err := mergeValues(attr, list, add)
					if err != nil {
						return err
					}
					setField(r, attr, merged)
				} else if curObj, isObj := cur.(map[string]any); isObj {
					if vals, ok := value.(map[string]any); ok {
						for k, v := range vals {
							setField(curObj, k, v)
						}
					} else {
						setField(r, attr, value)
					}
				} else {
					setField(r, attr, value)
				}
			default:
				setField(r, attr, value)
			}
			return nil
		}
		o, _ := cur.(map[string]any)
		if o == nil {
			if op == "remove" {
				return nil
			}
			o = map[string]any{}
			setField(r, attr, o)
		}
		if op == "remove" {
			deleteField(o, sub)
		} else {
			setField(o, sub, value)
		}
		return nil
	}
	// A value filter selects values of a multi-valued attribute.
	list, _ := cur.([]any)
	var kept []any
	var primary []int // indexes in kept of the values this operation made primary
	matched := false
	for _, x := range list {
		e, ok := x.(map[string]any)
		if !ok || !matches(filter, e) {
			kept = append(kept, x)
			continue
		}
		matched = true
		wasPrimary := isPrimary(e)
		switch {
		case op == "remove" && sub == "":
			continue // the value goes
		case op == "remove":
			deleteField(e, sub)
		case sub != "":
			setField(e, sub, value)
		default:
			if vals, ok := value.(map[string]any); ok {
				for k, v := range vals {
					setField(e, k, v)
				}
			}
		}
		if isPrimary(e) && !wasPrimary {
			primary = append(primary, len(kept))
		}
		kept = append(kept, e)
	}
	if !matched && op != "remove" {
		// Nothing matched: a value described by an eq filter is added (what Entra ID
		// expects of emails[type eq "work"].value).
		if filter.Op != "eq" {
			return &Error{Status: 400, Type: "noTarget", Detail: "no value matches " + path}
		}
		e := map[string]any{filter.Attr: filter.Text}
		if sub != "" {
			e[sub] = value
		} else if vals, ok := value.(map[string]any); ok {
			for k, v := range vals {
				e[k] = v
			}
		}
		if isPrimary(e) {
			primary = append(primary, len(kept))
		}
		kept = append(kept, e)
	}
	if kept == nil {
		kept = []any{}
	}
	if err := onePrimary(attr, kept, primary); err != nil {
		return err
	}
	setField(r, attr, kept)
	return nil
}

// applyEnterprise applies an operation to the enterprise extension: the whole
// extension (sub empty), one of its attributes (department), or a sub-attribute
// (manager.value).
func applyEnterprise(r map[string]any, op, sub string, value any) error {
	ent := obj(r, enterpriseURN)
	if sub == "" {
		if op == "remove" {
			deleteField(r, enterpriseURN)
			return nil
		}
		vals, ok := value.(map[string]any)
		if !ok {
			return invalidValue(enterpriseURN + " takes an object")
		}
		if ent == nil {
			ent = map[string]any{}
			r[enterpriseURN] = ent
		}
		for k, v := range vals {
			setField(ent, k, v)
		}
		return nil
	}
	top, leaf, _ := strings.Cut(sub, ".")
	if top == "" || strings.Contains(leaf, ".") {
		return invalidPath(enterpriseURN + ":" + sub)
	}
	if op == "remove" {
		if ent == nil {
			return nil
		}
		if leaf == "" {
			deleteField(ent, top)
		} else if o := obj(ent, top); o != nil {
			deleteField(o, leaf)
		}
		return nil
	}
	if ent == nil {
		ent = map[string]any{}
		r[enterpriseURN] = ent
	}
	if leaf == "" {
		setField(ent, top, value)
		return nil
	}
	o := obj(ent, top)
	if o == nil {
		o = map[string]any{}
		setField(ent, top, o)
	}
	setField(o, leaf, value)
	return nil
}

// valueOf is the value sub-attribute of one value of a multi-valued attribute (an
// object with value, or a bare string).
func valueOf(x any) string {
	if m, ok := x.(map[string]any); ok {
		return str(m, "value")
	}
	return scalarText(x)
}

// sameValue reports whether x is the value g names: the same value (exactly, for a
// group's members, which are ids; else in any case) and, when g gives a type, the
// same type.
func sameValue(attr string, g, x any) bool {
	gv, xv := valueOf(g), valueOf(x)
	if strings.EqualFold(attr, "members") {
		if gv != xv {
			return false
		}
	} else if !strings.EqualFold(gv, xv) {
		return false
	}
	gm, _ := g.(map[string]any)
	xm, _ := x.(map[string]any)
	if t := str(gm, "type"); t != "" && !strings.EqualFold(t, str(xm, "type")) {
		return false
	}
	return true
}

// mergeValues adds values to a multi-valued attribute: a value already there (the
// same value, and the same type when the added one has a type) is updated rather
// than added again, and a value added as
// primary makes the others not primary (RFC 7643 §2.4: at most one primary).
func mergeValues(attr string, list, add []any) ([]any, error) {
	out := slices.Clone(list)
	var primary []int
	for _, x := range add {
		xm, isObj := x.(map[string]any)
		i := slices.IndexFunc(out, func(e any) bool { return sameValue(attr, x, e) })
		switch {
		case i >= 0 && isObj:
			if em, ok := out[i].(map[string]any); ok {
				for k, v := range xm {
					// The value it is (in its spelling) and its type stay.
					if !strings.EqualFold(k, "value") && !strings.EqualFold(k, "type") {
						setField(em, k, v)
					}
				}
			}
		case i >= 0:
			continue
		default:
			i = len(out)
			out = append(out, x)
		}
		if isObj && isPrimary(xm) && !slices.Contains(primary, i) {
			primary = append(primary, i)
		}
	}
	return out, onePrimary(attr, out, primary)
}

// onePrimary keeps the value at the one index of fresh primary and makes every
// other value not primary; two fresh primaries are an invalidValue.
func onePrimary(attr string, list []any, fresh []int) error {
	switch len(fresh) {
	case 0:
		return nil
	case 1:
	default:
		return invalidValue(attr + " may have one primary value only")
	}
	for i, x := range list {
		if m, ok := x.(map[string]any); ok && i != fresh[0] && isPrimary(m) {
			deleteField(m, "primary")
		}
	}
	return nil
}

func isPrimary(m map[string]any) bool {
	p, _ := field(m, "primary")
	b, _ := boolean(p, false)
	return b
}

func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case map[string]any, string:
		return []any{x}, true
	}
	return nil, false
}

// splitPath parses a PATCH path.
func splitPath(path string) (attr string, filter *filter, sub string, err error) {
	lower := strings.ToLower(path)
	for _, urn := range []string{userSchema, groupSchema} {
		if strings.HasPrefix(lower, strings.ToLower(urn)+":") {
			path = path[len(urn)+1:]
			lower = lower[len(urn)+1:]
		}
	}
	if strings.HasPrefix(lower, strings.ToLower(enterpriseURN)) {
		rest := strings.TrimPrefix(path[len(enterpriseURN):], ":")
		if rest == "" {
			return enterpriseURN, nil, "", nil
		}
		// The extension's attributes (and their sub-attributes, manager.value) live
		// in the extension's object.
		if strings.ContainsAny(rest, " \"[]:") {
			return "", nil, "", invalidPath(path)
		}
		return enterpriseURN, nil, rest, nil
	}
	// Entra ID names the enterprise manager without its schema ("path": "manager").
	if top, _, _ := strings.Cut(lower, "."); top == "manager" {
		return enterpriseURN, nil, path, nil
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		j := strings.LastIndexByte(path, ']')
		if j < i {
			return "", nil, "", invalidPath(path)
		}
		f, ferr := parseFilter(path[i+1:j], anyText)
		if ferr != nil {
			return "", nil, "", invalidPath(path)
		}
		rest := path[j+1:]
		if rest != "" {
			if rest[0] != '.' || len(rest) == 1 {
				return "", nil, "", invalidPath(path)
			}
			sub = rest[1:]
		}
		return path[:i], f, sub, nil
	}
	attr, sub, _ = strings.Cut(path, ".")
	if attr == "" || strings.ContainsAny(path, " \"") {
		return "", nil, "", invalidPath(path)
	}
	return attr, nil, sub, nil
}

func invalidPath(path string) error {
	return &Error{Status: 400, Type: "invalidPath", Detail: "cannot read the path " + path}
}
