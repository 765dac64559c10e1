package explain

import (
	"regexp"
	"sort"
	"strings"
)

// hit is one recognised error in the prepared text.
type hit struct {
	id   string
	r    *rule // nil for an error recognised by its code alone
	code string
	sub  []string
	prio int
	// start/end is the match; [regStart, regEnd) is the text that belongs
	// to this error (facts are looked for there) and ctxStart reaches back
	// a little further for the wrapper (Go v1 prints "WebIdentityErr: …"
	// on the line before "caused by: <Code>: <message>").
	start, end, regStart, regEnd, ctxStart int
}

func findHits(t string) []hit {
	var cands []hit
	lower := strings.ToLower(t)
	for p := range rules {
		r := &rules[p]
		if !hasAny(lower, r.kw) {
			continue
		}
		for _, m := range r.re.FindAllStringSubmatchIndex(t, -1) {
			sub := submatches(t, m)
			id := r.id
			if r.idFor != nil {
				id = r.idFor(sub)
			}
			cands = append(cands, hit{id: id, r: r, sub: sub, prio: p, start: m[0], end: m[1]})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].prio != cands[j].prio {
			return cands[i].prio < cands[j].prio
		}
		return cands[i].start < cands[j].start
	})
	// acc is kept sorted by start; its hits do not overlap, so it is sorted
	// by end too and one binary search finds a clash (a log of thousands
	// of retries must not cost quadratic time).
	var acc []hit
	for _, c := range cands {
		i := sort.Search(len(acc), func(i int) bool { return acc[i].start >= c.end })
		if i > 0 && acc[i-1].end > c.start {
			continue
		}
		acc = append(acc, hit{})
		copy(acc[i+1:], acc[i:])
		acc[i] = c
	}
	acc = append(acc, codeHits(t, acc)...)
	sort.SliceStable(acc, func(i, j int) bool { return acc[i].start < acc[j].start })
	acc = dropWeak(t, acc)
	if len(acc) > maxHits {
		acc = acc[:maxHits]
	}
	setRegions(t, acc)
	return acc
}

// maxHits bounds the errors explained in one text; a log with more is
// dominated by repeats that ExplainAll merges anyway.
const maxHits = 2000

// near returns the hits of hs (sorted by start) that start within
// [from, to].
func near(hs []hit, from, to int) []hit {
	i := sort.Search(len(hs), func(i int) bool { return hs[i].start >= from })
	j := sort.Search(len(hs), func(i int) bool { return hs[i].start > to })
	if i > j {
		return nil
	}
	return hs[i:j]
}

// dropWeak removes weak hits that share a line with a specific one; hs is
// sorted by start.
func dropWeak(t string, hs []hit) []hit {
	out := hs[:0:0]
	for _, h := range hs {
		if h.r != nil && h.r.weak && sharesLine(t, h, hs) {
			continue
		}
		out = append(out, h)
	}
	return out
}

func sharesLine(t string, h hit, hs []hit) bool {
	for _, o := range near(hs, lineStart(t, h.start), lineEnd(t, h.end)) {
		if o.start != h.start && (o.r == nil || !o.r.weak) {
			return true
		}
	}
	return false
}

func submatches(t string, m []int) []string {
	sub := make([]string, len(m)/2)
	for i := range sub {
		if m[2*i] >= 0 {
			sub[i] = t[m[2*i]:m[2*i+1]]
		}
	}
	return sub
}

// overlaps reports whether h overlaps a hit of acc (sorted by start, not
// overlapping each other).
func overlaps(h hit, acc []hit) bool {
	i := sort.Search(len(acc), func(i int) bool { return acc[i].start >= h.end })
	return i > 0 && acc[i-1].end > h.start
}

// codeHits recognises errors by their code alone: a code token that does not
// belong to an error a rule already recognised, at most one per line.
func codeHits(t string, specific []hit) []hit {
	var out []hit
	usedLine := map[int]bool{}
	for _, m := range codeRe.FindAllStringSubmatchIndex(t, -1) {
		code := canonicalCode(t[m[2]:m[3]])
		ls := lineStart(t, m[0])
		if usedLine[ls] {
			continue
		}
		line := ""
		if code == "ExpiredTokenException" || code == "AccessDenied" {
			line = strings.ToLower(t[max(ls, m[0]-400):min(lineEnd(t, m[1]), m[1]+400)])
		}
		id := genericID(code, line)
		if id == "" || overlaps(hit{start: m[0], end: m[1]}, specific) || attached(t, m[0], m[1], specific) {
			continue
		}
		usedLine[ls] = true
		out = append(out, hit{id: id, code: code, prio: len(rules), start: m[0], end: m[1]})
	}
	return out
}

// labelled matches a code that is a field of the error before it (Java v1
// "Error Code: X", JS "name": "X") rather than the start of a new error.
var labelled = re(`(?:error\s*code|name|code)["']?\s*[:=]\s*["']?$`)

var onlyGlue = regexp.MustCompile(`^[\s:"',]*$`)

// attached reports whether the code token at [s,e) is the code of an error a
// rule recognised: on the same line, directly before its message (also
// across a wrap), or a labelled field shortly after it.
//
// Only the neighbours matter: if the closest hit before (or after) the token
// is not on its line, no other is. hs is sorted by start.
func attached(t string, s, e int, hs []hit) bool {
	ls := lineStart(t, s)
	i := sort.Search(len(hs), func(i int) bool { return hs[i].start >= e })
	if i < len(hs) {
		h := hs[i]
		if ls == lineStart(t, h.start) || (h.start-e < maxLine && onlyGlue.MatchString(t[e:h.start])) {
			return true
		}
	}
	if i > 0 {
		h := hs[i-1]
		if ls == lineStart(t, h.start) || ls == lineStart(t, h.end) {
			return true
		}
		if s >= h.end && s-h.end < 400 && strings.Count(t[h.end:s], "\n") <= 1 && labelled.MatchString(t[max(ls, s-100):s]) {
			return true
		}
	}
	return false
}

// setRegions splits the text between the hits: an error owns the text from
// the start of its line (or the end of the previous error) to the line of the
// next error, at most 12 lines past its end (JS v3 prints $metadata several
// lines below the message).
func setRegions(t string, hs []hit) {
	for i := range hs {
		prevEnd := 0
		if i > 0 {
			prevEnd = hs[i-1].end
		}
		hs[i].regStart = max(lineStart(t, hs[i].start), prevEnd)
		ctx := lineStart(t, hs[i].start)
		for k := 0; k < 2 && ctx > 0; k++ {
			ctx = lineStart(t, ctx-1)
		}
		hs[i].ctxStart = max(ctx, prevEnd)
		end := hs[i].end
		for k := 0; k < 12 && end < len(t); k++ {
			end = lineEnd(t, end) + 1
		}
		end = min(end, len(t))
		if i+1 < len(hs) {
			end = min(end, max(lineStart(t, hs[i+1].start), hs[i].end))
		}
		hs[i].regEnd = end
	}
}

// maxLine bounds how far a line is looked at from a position: a log line is
// never that long, and unbounded scans of a text without newlines would
// make matching quadratic. Beyond it, a "line" is a window of maxLine bytes.
const maxLine = 4096

func lineStart(t string, i int) int {
	from := max(0, i-maxLine)
	if j := strings.LastIndexByte(t[from:i], '\n'); j >= 0 {
		return from + j + 1
	}
	return from
}

func lineEnd(t string, i int) int {
	to := min(len(t), i+maxLine)
	if j := strings.IndexByte(t[i:to], '\n'); j >= 0 {
		return i + j
	}
	return to
}

func hasAny(s string, kws []string) bool {
	if len(kws) == 0 {
		return true
	}
	for _, k := range kws {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}
