package emulator

import (
	"net/url"
	"strconv"
	"strings"
)

// Paging limits of the real service.
const (
	defaultLimit = 200
	maxLimit     = 5000
)

// paging reads limit and offset.
func paging(q url.Values) (limit, offset int, e *apiError) {
	limit, offset = defaultLimit, 0
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, queryErr("limit", "an integer between 1 and 5000 (inclusive)")
		}
		limit = n
	}
	if v, ok := q["offset"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return 0, 0, queryErr("offset", "a non-negative integer")
		}
		offset = n
	}
	return limit, offset, nil
}

// page returns items[offset : offset+limit], clipped.
func page[T any](items []T, limit, offset int) []T {
	if offset >= len(items) {
		return []T{}
	}
	end := min(offset+limit, len(items))
	return items[offset:end]
}

// boolQuery reads an optional true/false parameter.
func boolQuery(q url.Values, name string) (*bool, *apiError) {
	v, ok := q[name]
	if !ok {
		return nil, nil
	}
	b, err := strconv.ParseBool(v[0])
	if err != nil {
		return nil, queryErr(name, "true or false")
	}
	return &b, nil
}

// stateQuery reads a comma-separated list of key states.
func stateQuery(name, v string) (map[int]bool, *apiError) {
	set := map[int]bool{}
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 5 || n == 4 {
			return nil, queryErr(name, "a comma-separated list of key states 0, 1, 2, 3 or 5")
		}
		set[n] = true
	}
	return set, nil
}
