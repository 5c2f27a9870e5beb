package httpapi

import (
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// requireAnswerFields marks, in the schemas of answers, the fields every answer
// carries as required, so that a generated client reads them as plain values rather
// than as pointers it must test. The server is configured with FieldsOptionalByDefault
// (a request may leave out whatever API.md does not require), which would otherwise
// document every field of every answer as optional.
//
// A field is always there when the view's Go type writes it whatever its value: a JSON
// name without omitempty or omitzero, and a kind that encoding/json never writes as
// null (not a pointer, slice, map or interface). Schemas that are also read from
// requests keep their request rules.
func requireAnswerFields(api huma.API) {
	doc := api.OpenAPI()
	reg := doc.Components.Schemas
	requests := map[string]bool{}
	answers := map[string]bool{}
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					collectRefs(reg, mt.Schema, requests)
				}
			}
			for _, r := range op.Responses {
				for _, mt := range r.Content {
					collectRefs(reg, mt.Schema, answers)
				}
			}
		}
	}
	for ref := range answers {
		if requests[ref] {
			continue
		}
		s := reg.SchemaFromRef(ref)
		t := reg.TypeFromRef(ref)
		if s == nil || t == nil {
			continue
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			continue
		}
		for _, name := range alwaysWritten(t) {
			if _, ok := s.Properties[name]; ok && !slices.Contains(s.Required, name) {
				s.Required = append(s.Required, name)
			}
		}
	}
}

// collectRefs adds to seen every schema reference reachable from s.
func collectRefs(reg huma.Registry, s *huma.Schema, seen map[string]bool) {
	if s == nil {
		return
	}
	if s.Ref != "" {
		if seen[s.Ref] {
			return
		}
		seen[s.Ref] = true
		collectRefs(reg, reg.SchemaFromRef(s.Ref), seen)
		return
	}
	collectRefs(reg, s.Items, seen)
	if extra, ok := s.AdditionalProperties.(*huma.Schema); ok {
		collectRefs(reg, extra, seen)
	}
	for _, p := range s.Properties {
		collectRefs(reg, p, seen)
	}
	for _, group := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
		for _, sub := range group {
			collectRefs(reg, sub, seen)
		}
	}
}

// alwaysWritten lists the JSON names of t's fields (embedded structs' included, as
// encoding/json flattens them) that every encoding of a t writes with a value that
// is not null.
func alwaysWritten(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Struct {
				names = append(names, alwaysWritten(ft)...)
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
			continue
		}
		if r, ok := f.Tag.Lookup("required"); ok && r != "true" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			continue
		}
		names = append(names, name)
	}
	return names
}
