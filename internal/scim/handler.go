// Package scim serves SCIM 2.0 provisioning (RFC 7643, RFC 7644) per organization at
// /scim/v2/organizations/{org}/: Users are the organization's members, Groups its
// teams. Every change goes through the account package's use cases, acting as the
// organization's SCIM token; filters are parsed here and compiled by the store into
// one query.
package scim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
	"roster.dev/roster/internal/wellformed"
)

// Prefix is where the server mounts the handler; the organization (id or slug)
// follows it.
const Prefix = "/scim/v2/organizations/"

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Paging bounds: count defaults to defaultCount and is capped at maxCount.
const (
	defaultCount = 100
	maxCount     = 1000
)

// Handler serves the SCIM endpoint.
type Handler struct {
	svc     *account.Service
	log     *slog.Logger
	baseURL string
}

// New returns the SCIM handler. baseURL is Roster's public URL (for meta.location).
func New(svc *account.Service, log *slog.Logger, baseURL string) *Handler {
	return &Handler{svc: svc, log: log, baseURL: strings.TrimRight(baseURL, "/")}
}

// request is one authenticated SCIM request.
type request struct {
	*http.Request
	actor account.Actor
	org   string
	base  string // the organization's SCIM base URL
}

// ServeHTTP authenticates the organization's SCIM token and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	// A path with an empty or a dot segment names no resource (it arrives as sent).
	if !ok || strings.Contains(r.URL.Path, "//") || slices.ContainsFunc(strings.Split(rest, "/"),
		func(seg string) bool { return seg == "." || seg == ".." }) {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such endpoint"})
		return
	}
	org, rest, _ := strings.Cut(rest, "/")
	if org == "" {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such endpoint"})
		return
	}
	if e := malformed(r); e != nil {
		writeError(w, e)
		return
	}
	token, ok := httpedge.Bearer(r.Header.Get("Authorization"))
	if !ok {
		writeError(w, &Error{Status: http.StatusUnauthorized, Detail: "this needs the organization's SCIM token: Authorization: Bearer <token>"})
		return
	}
	if account.TextProblem(token) != "" {
		writeError(w, &Error{Status: http.StatusUnauthorized, Detail: "the SCIM token is not valid"})
		return
	}
	actor, err := h.svc.AuthenticateSCIM(r.Context(), org, token, httpedge.RequestIP(r))
	if err != nil {
		writeError(w, errorFor(r, h.log, err))
		return
	}
	req := &request{Request: r, actor: actor, org: org, base: h.baseURL + Prefix + org}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	resource, id := strings.ToLower(parts[0]), ""
	if len(parts) > 2 {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such endpoint"})
		return
	}
	if len(parts) == 2 {
		id = parts[1]
		if !validText(id) || len(id) > 100 {
			writeError(w, &Error{Status: http.StatusNotFound, Detail: "not found"})
			return
		}
	}
	switch resource {
	case "users":
		h.users(w, req, id)
	case "groups":
		h.groups(w, req, id)
	case "serviceproviderconfig", "serviceconfiguration":
		h.discovery(w, req, id, serviceProviderConfig(req.base))
	case "resourcetypes":
		h.discovery(w, req, id, resourceTypes(req.base))
	case "schemas":
		h.discovery(w, req, id, schemas(req.base))
	default:
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such endpoint"})
	}
}

// malformed refuses a NUL or invalid UTF-8 in the path, the query (filter, …) or the
// JSON body before anything is looked up: 400 invalidValue (invalidFilter for the
// filter), as SCIM answers every value it refuses (RFC 7644 §3.12), naming the
// attribute.
func malformed(r *http.Request) *Error {
	fault := wellformed.Path(r, Prefix+"{org}/{resource}/{id}")
	if fault == nil {
		fault = wellformed.Query(r)
	}
	if fault == nil && r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return invalidSyntax("unreadable body")
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if len(b) <= maxBodyBytes {
			fault = wellformed.JSON(b)
		}
	}
	if fault == nil {
		return nil
	}
	if fault.Field == "filter" {
		return &Error{Status: http.StatusBadRequest, Type: "invalidFilter", Detail: "filter " + fault.Message}
	}
	return invalidValue(fault.Field + " " + fault.Message)
}

func methodNotAllowed(w http.ResponseWriter) {
	writeError(w, &Error{Status: http.StatusMethodNotAllowed, Detail: "method not allowed"})
}

// readBody decodes a JSON object body.
func readBody(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, invalidSyntax("unreadable body")
	}
	if len(b) > maxBodyBytes {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the body is larger than 1 MiB"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, invalidSyntax("the body is not a JSON object")
	}
	return m, nil
}

// listParams reads filter, startIndex, count, attributes and excludedAttributes.
type listParams struct {
	filter              *filter
	offset, limit       int
	startIndex          int
	attributes, exclude []string
}

func readList(r *http.Request, resolve resolver, values valueResolver) (listParams, error) {
	q := r.URL.Query()
	p := listParams{startIndex: 1, limit: defaultCount}
	if s := q.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, invalidValue("startIndex must be an integer")
		}
		p.startIndex = max(n, 1)
	}
	if s := q.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, invalidValue("count must be an integer")
		}
		p.limit = min(max(n, 0), maxCount)
	}
	p.offset = p.startIndex - 1
	if s := q.Get("filter"); strings.TrimSpace(s) != "" {
		f, err := parseFilter(s, resolve, values)
		if err != nil {
			return p, err
		}
		p.filter = f
	}
	p.attributes, p.exclude = attrList(q.Get("attributes")), attrList(q.Get("excludedAttributes"))
	return p, nil
}

// attrList splits a comma-separated attribute list, keeping value filters whole.
func attrList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				if a := strings.TrimSpace(s[start:i]); a != "" {
					out = append(out, a)
				}
				start = i + 1
			}
		}
	}
	if a := strings.TrimSpace(s[start:]); a != "" {
		out = append(out, a)
	}
	return out
}

func listResponse(total, startIndex int, resources []any) map[string]any {
	return map[string]any{"schemas": []string{listSchema}, "totalResults": total, "startIndex": startIndex,
		"itemsPerPage": len(resources), "Resources": resources}
}

var userResolver = schemaResolver(userAttrs, userSchema)
var groupResolver = schemaResolver(groupAttrs, groupSchema)
var userValues = valuesResolver(userValueAttrs, userSchema)
var groupValues = valuesResolver(groupValueAttrs, groupSchema)

func (h *Handler) users(w http.ResponseWriter, r *request, id string) {
	ctx := r.Context()
	loc := func(id string) string { return r.base + "/Users/" + id }
	q := r.URL.Query()
	attrs, exclude := attrList(q.Get("attributes")), attrList(q.Get("excludedAttributes"))
	switch {
	case id == "" && r.Method == http.MethodGet:
		p, err := readList(r.Request, userResolver, userValues)
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		us, total, err := h.svc.FindSCIMUsers(ctx, r.actor, r.org, account.SCIMQuery{Filter: p.filter.query(), Offset: p.offset, Limit: p.limit})
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		res := make([]any, len(us))
		for i, u := range us {
			res[i] = project(userResource(u, loc(u.AccountID)), p.attributes, p.exclude)
		}
		writeJSON(w, http.StatusOK, listResponse(total, p.startIndex, res))
	case id == "" && r.Method == http.MethodPost:
		body, err := readBody(r.Request)
		if err == nil {
			var in account.SCIMUserInput
			if in, err = userInput(body); err == nil {
				var u account.SCIMUser
				if u, err = h.svc.CreateSCIMUser(ctx, r.actor, r.org, in); err == nil {
					w.Header().Set("Location", loc(u.AccountID))
					writeJSON(w, http.StatusCreated, project(userResource(u, loc(u.AccountID)), attrs, exclude))
					return
				}
			}
		}
		writeError(w, errorFor(r.Request, h.log, err))
	case id == "":
		methodNotAllowed(w)
	case r.Method == http.MethodGet:
		u, err := h.svc.FindSCIMUser(ctx, r.actor, r.org, id)
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		writeJSON(w, http.StatusOK, project(userResource(u, loc(id)), attrs, exclude))
	case r.Method == http.MethodPut:
		body, err := readBody(r.Request)
		if err == nil {
			var in account.SCIMUserInput
			if in, err = userInput(body); err == nil {
				var u account.SCIMUser
				if u, err = h.svc.ReplaceSCIMUser(ctx, r.actor, r.org, id, in); err == nil {
					writeJSON(w, http.StatusOK, project(userResource(u, loc(id)), attrs, exclude))
					return
				}
			}
		}
		writeError(w, errorFor(r.Request, h.log, err))
	case r.Method == http.MethodPatch:
		// 200 with the resource, which Okta expects (RFC 7644 §3.5.2 allows it or 204).
		u, err := h.patchUser(r, id)
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		writeJSON(w, http.StatusOK, project(userResource(u, loc(id)), attrs, exclude))
	case r.Method == http.MethodDelete:
		if err := h.svc.RemoveMember(ctx, r.actor, r.org, id); err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w)
	}
}

// patchUser applies a PatchOp to the member's current resource and replaces the
// member with the result, in one transaction of the same use case as PUT.
func (h *Handler) patchUser(r *request, id string) (account.SCIMUser, error) {
	body, err := readBody(r.Request)
	if err != nil {
		return account.SCIMUser{}, err
	}
	ops, err := patchOps(body)
	if err != nil {
		return account.SCIMUser{}, err
	}
	return h.svc.PatchSCIMUser(r.Context(), r.actor, r.org, id, func(u account.SCIMUser) (account.SCIMUserInput, error) {
		res := patchBase(u)
		if err := applyPatch(res, ops); err != nil {
			return account.SCIMUserInput{}, err
		}
		return userInput(res)
	})
}

// roundTrip turns a rendered resource into the generic JSON form a request body has,
// so that a PATCH edits what a client would have sent.
func roundTrip(r map[string]any) map[string]any {
	b, _ := json.Marshal(r)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	_ = dec.Decode(&m)
	return m
}

func (h *Handler) groups(w http.ResponseWriter, r *request, id string) {
	ctx := r.Context()
	loc := func(id string) string { return r.base + "/Groups/" + id }
	users := r.base + "/Users"
	q := r.URL.Query()
	attrs, exclude := attrList(q.Get("attributes")), attrList(q.Get("excludedAttributes"))
	switch {
	case id == "" && r.Method == http.MethodGet:
		p, err := readList(r.Request, groupResolver, groupValues)
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		gs, total, err := h.svc.FindSCIMGroups(ctx, r.actor, r.org, account.SCIMQuery{Filter: p.filter.query(), Offset: p.offset, Limit: p.limit})
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		res := make([]any, len(gs))
		for i, g := range gs {
			res[i] = project(groupResource(g, loc(g.ID), users), p.attributes, p.exclude)
		}
		writeJSON(w, http.StatusOK, listResponse(total, p.startIndex, res))
	case id == "" && r.Method == http.MethodPost:
		body, err := readBody(r.Request)
		if err == nil {
			in, _ := groupInput(body)
			var g account.SCIMGroup
			if g, err = h.svc.CreateSCIMGroup(ctx, r.actor, r.org, in); err == nil {
				w.Header().Set("Location", loc(g.ID))
				writeJSON(w, http.StatusCreated, project(groupResource(g, loc(g.ID), users), attrs, exclude))
				return
			}
		}
		writeError(w, errorFor(r.Request, h.log, err))
	case id == "":
		methodNotAllowed(w)
	case r.Method == http.MethodGet:
		g, err := h.svc.FindSCIMGroup(ctx, r.actor, r.org, id)
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		writeJSON(w, http.StatusOK, project(groupResource(g, loc(id), users), attrs, exclude))
	case r.Method == http.MethodPut:
		body, err := readBody(r.Request)
		if err == nil {
			in, _ := groupInput(body)
			var g account.SCIMGroup
			if g, err = h.svc.ReplaceSCIMGroup(ctx, r.actor, r.org, id, in); err == nil {
				writeJSON(w, http.StatusOK, project(groupResource(g, loc(id), users), attrs, exclude))
				return
			}
		}
		writeError(w, errorFor(r.Request, h.log, err))
	case r.Method == http.MethodPatch:
		g, err := h.patchGroup(r, id)
		if err != nil {
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		writeJSON(w, http.StatusOK, project(groupResource(g, loc(id), users), attrs, exclude))
	case r.Method == http.MethodDelete:
		if err := h.svc.DeleteTeam(ctx, r.actor, r.org, id); err != nil {
			if account.ErrorCode(err) == account.ENOTFOUND {
				err = account.Errorf(account.ENOTFOUND, "group not found")
			}
			writeError(w, errorFor(r.Request, h.log, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w)
	}
}

func (h *Handler) patchGroup(r *request, id string) (account.SCIMGroup, error) {
	body, err := readBody(r.Request)
	if err != nil {
		return account.SCIMGroup{}, err
	}
	ops, err := patchOps(body)
	if err != nil {
		return account.SCIMGroup{}, err
	}
	return h.svc.PatchSCIMGroup(r.Context(), r.actor, r.org, id, func(g account.SCIMGroup) (account.SCIMGroupInput, error) {
		res := roundTrip(groupResource(g, "", ""))
		if err := applyPatch(res, ops); err != nil {
			return account.SCIMGroupInput{}, err
		}
		return groupInput(res)
	})
}

// discovery serves a discovery document: the list, or one entry by id.
func (h *Handler) discovery(w http.ResponseWriter, r *request, id string, doc any) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w)
		return
	}
	list, isList := doc.([]any)
	if !isList {
		writeJSON(w, http.StatusOK, doc)
		return
	}
	if id == "" {
		writeJSON(w, http.StatusOK, listResponse(len(list), 1, list))
		return
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && strings.EqualFold(scalarText(m["id"]), id) {
			writeJSON(w, http.StatusOK, m)
			return
		}
	}
	writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such entry"})
}
