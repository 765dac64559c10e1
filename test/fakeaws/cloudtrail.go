package fakeaws

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// CloudTrail LookupEvents, the Event history API
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html),
// as the SDK's service/cloudtrail speaks it: AWS JSON 1.1, POST / with
// X-Amz-Target CloudTrail_20131101.LookupEvents, errors as
// {"__type": CODE, "Message": TEXT}. Events live per account and region; the
// emulated STS and EKS Auth record their own calls (recordTrail).

const (
	opLookupEvents = "LookupEvents"
	// cloudTrailTargetPrefix is how the SDK names the operation in
	// X-Amz-Target; the model's fully qualified form is accepted too.
	cloudTrailTargetPrefix     = "CloudTrail_20131101."
	cloudTrailLongTargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
	amzJSON11                  = "application/x-amz-json-1.1"

	// maxLookupResults is LookupEvents' largest (and default) MaxResults.
	maxLookupResults = 50
	// trailRetention is how far back Event history goes.
	trailRetention = 90 * 24 * time.Hour
	// DefaultLookupEventsRate and DefaultLookupEventsBurst are CloudTrail's
	// quota: 2 LookupEvents a second per account and region
	// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html).
	DefaultLookupEventsRate  = 2.0
	DefaultLookupEventsBurst = 2
	maxCloudTrailBody        = 1 << 20
)

// Event sources and names the emulator records.
const (
	EventSourceSTS       = "sts.amazonaws.com"
	EventSourceEKSAuth   = "eks-auth.amazonaws.com"
	EventNameWebIdentity = opWebIdentity
	EventNamePodIdentity = opAssumeRoleForPodIdentity
)

// hiddenToken is what CloudTrail logs in place of EKS Auth's token
// (observed in AssumeRoleForPodIdentity events; the same string IAM uses
// for a mistyped sign-in user name).
const hiddenToken = "HIDDEN_DUE_TO_SECURITY_REASONS"

// msgUnknownError is the errorMessage CloudTrail logs for an
// AssumeRoleWithWebIdentity refused with AccessDenied, where the API answers
// "Not authorized to perform sts:AssumeRoleWithWebIdentity" (observed in
// published events and quoted by AWS Support).
const msgUnknownError = "An unknown error occurred"

// lookupAttributeKeys are LookupEvents' attribute keys (service/cloudtrail
// types.LookupAttributeKey).
var lookupAttributeKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

// TrailResource is one entry of an event's Resources in LookupEvents.
type TrailResource struct {
	Type string
	Name string
}

// TrailEvent is one CloudTrail management event as LookupEvents returns it:
// the lookup fields CloudTrail derives from the event, and Payload, the
// event's JSON (Events[].CloudTrailEvent, a string).
type TrailEvent struct {
	// Account and Region are where the event lives; a LookupEvents call sees
	// the events of its caller's account in the region it was signed for.
	Account string
	Region  string
	// Time is eventTime, to the second; AddTrailEvent sets the clock's now
	// when zero.
	Time time.Time
	// EventID is filled in (a UUID) when empty.
	EventID     string
	EventName   string
	EventSource string
	Username    string
	// ReadOnly is "true" or "false", a string as in LookupEvents.
	ReadOnly    string
	AccessKeyID string
	Resources   []TrailResource
	// Payload is CloudTrailEvent verbatim; it may be any text, malformed or
	// truncated JSON included.
	Payload string

	seq uint64
}

func (e TrailEvent) clone() TrailEvent {
	e.Resources = append([]TrailResource(nil), e.Resources...)
	return e
}

// bucket is a token bucket: tokens refill at rate a second up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

type trailState struct {
	events  map[string][]TrailEvent // by account+"/"+region
	seq     uint64
	rate    float64
	burst   int
	buckets map[string]*bucket
	now     func() time.Time
}

func newTrailState() *trailState {
	return &trailState{
		events:  map[string][]TrailEvent{},
		rate:    DefaultLookupEventsRate,
		burst:   DefaultLookupEventsBurst,
		buckets: map[string]*bucket{},
		now:     time.Now,
	}
}

func trailKey(account, region string) string { return account + "/" + region }

// trailLocked returns the CloudTrail state, creating it on first use.
func (s *Server) trailLocked() *trailState {
	if s.trail == nil {
		s.trail = newTrailState()
	}
	return s.trail
}

// trailNow is the CloudTrail clock's now, in UTC and to the second as
// CloudTrail records eventTime.
func (s *Server) trailNow() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trailLocked().now().UTC().Truncate(time.Second)
}

// SetTrailClock replaces the clock that stamps recorded events, bounds
// Event history's 90 days and refills the LookupEvents token bucket (nil
// restores time.Now). Token validation in STS and EKS Auth keeps the real
// clock.
func (s *Server) SetTrailClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trailLocked()
	t.now = now
	t.buckets = map[string]*bucket{}
}

// SetLookupEventsRate sets LookupEvents' quota per account and region: a
// token bucket refilled at perSecond up to burst (minimum 1). perSecond <= 0
// turns the throttling off. The default is CloudTrail's 2 a second, burst 2.
func (s *Server) SetLookupEventsRate(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trailLocked()
	t.rate, t.burst = perSecond, max(burst, 1)
	t.buckets = map[string]*bucket{}
}

// AddTrailEvent stores an event as given and returns it as stored. Account
// and Region are required in effect (an empty one matches no caller). Lookup
// fields and Time left empty are derived from Payload when it is an event's
// JSON (eventID, eventTime, eventName, eventSource, readOnly, resources,
// userIdentity); a malformed payload leaves them as given.
func (s *Server) AddTrailEvent(ev TrailEvent) TrailEvent {
	ev = ev.clone()
	deriveLookupFields(&ev)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.trailLocked()
	if ev.Time.IsZero() {
		ev.Time = t.now()
	}
	// eventTime has a precision of a second, and so has NextToken's cursor.
	ev.Time = ev.Time.UTC().Truncate(time.Second)
	if ev.EventID == "" {
		ev.EventID = requestID()
	}
	t.seq++
	ev.seq = t.seq
	k := trailKey(ev.Account, ev.Region)
	t.events[k] = append(t.events[k], ev)
	out := ev.clone()
	out.seq = 0
	return out
}

// TrailEvents returns the events of an account and region, newest first.
func (s *Server) TrailEvents(account, region string) []TrailEvent {
	s.mu.Lock()
	evs := append([]TrailEvent(nil), s.trailLocked().events[trailKey(account, region)]...)
	s.mu.Unlock()
	sortNewestFirst(evs)
	for i := range evs {
		evs[i] = evs[i].clone()
		evs[i].seq = 0
	}
	return evs
}

// ClearTrail removes every stored event.
func (s *Server) ClearTrail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailLocked().events = map[string][]TrailEvent{}
}

func sortNewestFirst(evs []TrailEvent) {
	sort.SliceStable(evs, func(i, j int) bool { return newer(evs[i], evs[j]) })
}

// newer orders events as LookupEvents does, newest first; events of the same
// second keep the reverse of their arrival.
func newer(a, b TrailEvent) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	return a.seq > b.seq
}

// payloadFields are the members of an event's JSON the lookup fields come from.
type payloadFields struct {
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventName    string `json:"eventName"`
	EventSource  string `json:"eventSource"`
	ReadOnly     *bool  `json:"readOnly"`
	UserIdentity *struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		UserName    string `json:"userName"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
	Resources []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
}

// deriveLookupFields fills the empty lookup fields from the payload, the
// way CloudTrail derives them: Username is userIdentity.userName (a web
// identity's sub, an IAM user's name) or, for an assumed role, the session
// name; AccessKeyId is the caller's.
func deriveLookupFields(ev *TrailEvent) {
	var p payloadFields
	if json.Unmarshal([]byte(ev.Payload), &p) != nil {
		return
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	if t, err := time.Parse(time.RFC3339, p.EventTime); err == nil && ev.Time.IsZero() {
		ev.Time = t
	}
	fill(&ev.EventID, p.EventID)
	fill(&ev.EventName, p.EventName)
	fill(&ev.EventSource, p.EventSource)
	if p.ReadOnly != nil {
		fill(&ev.ReadOnly, fmt.Sprint(*p.ReadOnly))
	}
	if u := p.UserIdentity; u != nil {
		name := u.UserName
		if name == "" && u.Type == "AssumedRole" {
			name = u.ARN[strings.LastIndex(u.ARN, "/")+1:]
		}
		fill(&ev.Username, name)
		fill(&ev.AccessKeyID, u.AccessKeyID)
	}
	if len(ev.Resources) == 0 {
		for _, r := range p.Resources {
			ev.Resources = append(ev.Resources, TrailResource{Type: r.Type, Name: r.ARN})
		}
	}
}

// isCloudTrailRequest recognises LookupEvents and its siblings: the SigV4
// scope names cloudtrail, or X-Amz-Target names CloudTrail's API.
func isCloudTrailRequest(r *http.Request) bool {
	tgt := r.Header.Get("X-Amz-Target")
	return scopeService(r) == "cloudtrail" || strings.HasPrefix(tgt, cloudTrailTargetPrefix) || strings.HasPrefix(tgt, cloudTrailLongTargetPrefix)
}

// scopeParts returns the access key and region of the SigV4 credential scope
// (Credential=AKID/date/region/service/aws4_request), or "".
func scopeParts(r *http.Request) (akid, region string) {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return "", ""
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[2]
}

// writeCloudTrailError answers the AWS JSON 1.1 way: the code in __type,
// the text in Message.
func writeCloudTrailError(w http.ResponseWriter, e *apiError) {
	body, err := json.Marshal(map[string]string{"__type": e.code, "Message": e.message})
	if err != nil {
		http.Error(w, "fakeaws: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeCloudTrailBody(w, e.status, body)
}

func writeCloudTrailBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.Header().Set("Content-Type", amzJSON11)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) //nolint:gosec // application/x-amz-json-1.1 from json.Marshal
}

// serveCloudTrail answers a CloudTrail request end to end: call log,
// signature presence, Latency, Fail and Throttle injections, the quota, then
// LookupEvents itself.
func (s *Server) serveCloudTrail(w http.ResponseWriter, r *http.Request) {
	req := request{service: "cloudtrail", op: "Unknown", httpReq: r}
	tgt := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndex(tgt, "."); i >= 0 {
		req.op = tgt[i+1:]
	}
	_, region := scopeParts(r)
	req.resource = region

	s.enter()
	defer s.leave()
	s.log(req, r)

	if !hasSigV4(r) {
		writeCloudTrailError(w, &apiError{status: http.StatusBadRequest, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"})
		return
	}
	if d := s.currentLatency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if aerr := s.injected(req); aerr != nil {
		if aerr.code == "Throttling" {
			// Throttle's awsQuery code; CloudTrail's is ThrottlingException, on 400.
			aerr = &apiError{status: http.StatusBadRequest, code: "ThrottlingException", message: "Rate exceeded"}
		}
		writeCloudTrailError(w, aerr)
		return
	}
	switch {
	case r.Method != http.MethodPost:
		writeCloudTrailError(w, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "CloudTrail requests must be POST"})
		return
	case req.op != opLookupEvents:
		writeCloudTrailError(w, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "fakeaws does not implement CloudTrail " + req.op})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCloudTrailBody))
	if err != nil {
		writeCloudTrailError(w, &apiError{status: http.StatusBadRequest, code: "SerializationException", message: "could not read the request body"})
		return
	}
	s.mu.Lock()
	account := s.caller.Account
	allowed := s.takeLookupTokenLocked(account, region)
	s.mu.Unlock()
	if !allowed {
		writeCloudTrailError(w, &apiError{status: http.StatusBadRequest, code: "ThrottlingException", message: "Rate exceeded"})
		return
	}
	out, aerr := s.lookupEvents(account, region, body)
	if aerr != nil {
		writeCloudTrailError(w, aerr)
		return
	}
	writeCloudTrailBody(w, http.StatusOK, out)
}

// takeLookupTokenLocked spends a token of the account and region's bucket.
func (s *Server) takeLookupTokenLocked(account, region string) bool {
	t := s.trailLocked()
	if t.rate <= 0 {
		return true
	}
	now := t.now()
	k := trailKey(account, region)
	b, ok := t.buckets[k]
	if !ok {
		b = &bucket{tokens: float64(t.burst), last: now}
		t.buckets[k] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(t.burst), b.tokens+el*t.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type lookupAttribute struct {
	AttributeKey   string `json:"AttributeKey"`
	AttributeValue string `json:"AttributeValue"`
}

type lookupEventsInput struct {
	LookupAttributes []lookupAttribute `json:"LookupAttributes"`
	StartTime        *json.Number      `json:"StartTime"`
	EndTime          *json.Number      `json:"EndTime"`
	EventCategory    string            `json:"EventCategory"`
	MaxResults       *int              `json:"MaxResults"`
	NextToken        *string           `json:"NextToken"`
}

type lookupResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

type lookupEvent struct {
	EventID         string           `json:"EventId,omitempty"`
	EventName       string           `json:"EventName,omitempty"`
	ReadOnly        string           `json:"ReadOnly,omitempty"`
	AccessKeyID     string           `json:"AccessKeyId,omitempty"`
	EventTime       json.Number      `json:"EventTime"`
	EventSource     string           `json:"EventSource,omitempty"`
	Username        string           `json:"Username,omitempty"`
	Resources       []lookupResource `json:"Resources,omitempty"`
	CloudTrailEvent string           `json:"CloudTrailEvent"`
}

type lookupEventsOutput struct {
	Events    []lookupEvent `json:"Events"`
	NextToken string        `json:"NextToken,omitempty"`
}

// pageToken is NextToken's content: where the next page starts (the last
// event returned) and a digest of the query, so a token used with other
// parameters is refused as CloudTrail refuses it.
type pageToken struct {
	Time  int64  `json:"t"`
	Seq   uint64 `json:"s"`
	Query string `json:"q"`
}

func invalidParam(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: msg}
}

func epochOf(n *json.Number) (time.Time, bool) {
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// lookupEvents validates a LookupEvents body and answers one page.
func (s *Server) lookupEvents(account, region string, body []byte) ([]byte, *apiError) {
	var in lookupEventsInput
	if len(bytes.TrimSpace(body)) > 0 {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&in); err != nil {
			return nil, invalidParam("SerializationException", "the request body is not valid JSON")
		}
	}
	if len(in.LookupAttributes) > 1 {
		return nil, invalidParam("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	var attr *lookupAttribute
	if len(in.LookupAttributes) == 1 {
		attr = &in.LookupAttributes[0]
		known := false
		for _, k := range lookupAttributeKeys {
			known = known || k == attr.AttributeKey
		}
		if !known {
			return nil, invalidParam("InvalidLookupAttributesException",
				fmt.Sprintf("Invalid attribute key %q: it must be one of %s.", attr.AttributeKey, strings.Join(lookupAttributeKeys, ", ")))
		}
	}
	size := maxLookupResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxLookupResults {
			return nil, invalidParam("InvalidMaxResultsException", fmt.Sprintf("MaxResults must be between 1 and %d; %d is not.", maxLookupResults, *in.MaxResults))
		}
		size = *in.MaxResults
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		return nil, invalidParam("InvalidEventCategoryException", fmt.Sprintf("EventCategory %q is not valid; the only value is insight.", in.EventCategory))
	}
	var start, end time.Time
	var ok bool
	if in.StartTime != nil {
		if start, ok = epochOf(in.StartTime); !ok {
			return nil, invalidParam("InvalidTimeRangeException", "StartTime is not a valid timestamp.")
		}
	}
	if in.EndTime != nil {
		if end, ok = epochOf(in.EndTime); !ok {
			return nil, invalidParam("InvalidTimeRangeException", "EndTime is not a valid timestamp.")
		}
	}
	if in.StartTime != nil && in.EndTime != nil && start.After(end) {
		return nil, invalidParam("InvalidTimeRangeException", "The start time must be before the end time.")
	}

	query := queryDigest(in)
	var cursor *pageToken
	if in.NextToken != nil && *in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		var tok pageToken
		if err != nil || json.Unmarshal(raw, &tok) != nil || tok.Query != query {
			return nil, invalidParam("InvalidNextTokenException", "Invalid NextToken: it is not one this query returned.")
		}
		cursor = &tok
	}

	s.mu.Lock()
	t := s.trailLocked()
	oldest := t.now().Add(-trailRetention)
	all := append([]TrailEvent(nil), t.events[trailKey(account, region)]...)
	s.mu.Unlock()

	// Insights events are not modelled: an insight lookup finds none.
	var match []TrailEvent
	if in.EventCategory == "" {
		for _, ev := range all {
			switch {
			case ev.Time.Before(oldest),
				in.StartTime != nil && ev.Time.Before(start),
				in.EndTime != nil && ev.Time.After(end),
				attr != nil && !attributeMatches(ev, *attr):
				continue
			}
			match = append(match, ev)
		}
	}
	sortNewestFirst(match)
	if cursor != nil {
		at := TrailEvent{Time: time.Unix(cursor.Time, 0).UTC(), seq: cursor.Seq}
		i := sort.Search(len(match), func(i int) bool { return newer(at, match[i]) })
		match = match[i:]
	}
	out := lookupEventsOutput{Events: []lookupEvent{}}
	for i, ev := range match {
		if i == size {
			last := match[i-1]
			raw, err := json.Marshal(pageToken{Time: last.Time.Unix(), Seq: last.seq, Query: query})
			if err != nil {
				return nil, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: err.Error()}
			}
			out.NextToken = base64.RawURLEncoding.EncodeToString(raw)
			break
		}
		le := lookupEvent{
			EventID: ev.EventID, EventName: ev.EventName, ReadOnly: ev.ReadOnly, AccessKeyID: ev.AccessKeyID,
			EventTime: json.Number(fmt.Sprint(ev.Time.Unix())), EventSource: ev.EventSource, Username: ev.Username,
			CloudTrailEvent: ev.Payload,
		}
		for _, r := range ev.Resources {
			le.Resources = append(le.Resources, lookupResource{ResourceType: r.Type, ResourceName: r.Name})
		}
		out.Events = append(out.Events, le)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: err.Error()}
	}
	return body, nil
}

// queryDigest names a query's parameters (all but MaxResults and NextToken).
func queryDigest(in lookupEventsInput) string {
	var b strings.Builder
	for _, a := range in.LookupAttributes {
		fmt.Fprintf(&b, "%s=%s;", a.AttributeKey, a.AttributeValue)
	}
	if in.StartTime != nil {
		fmt.Fprintf(&b, "start=%s;", in.StartTime.String())
	}
	if in.EndTime != nil {
		fmt.Fprintf(&b, "end=%s;", in.EndTime.String())
	}
	fmt.Fprintf(&b, "category=%s", in.EventCategory)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

func attributeMatches(ev TrailEvent, a lookupAttribute) bool {
	v := a.AttributeValue
	switch a.AttributeKey {
	case "EventId":
		return ev.EventID == v
	case "EventName":
		return ev.EventName == v
	case "ReadOnly":
		return ev.ReadOnly == v
	case "Username":
		return ev.Username == v
	case "EventSource":
		return ev.EventSource == v
	case "AccessKeyId":
		return ev.AccessKeyID == v
	case "ResourceType", "ResourceName":
		for _, r := range ev.Resources {
			if (a.AttributeKey == "ResourceType" && r.Type == v) || (a.AttributeKey == "ResourceName" && r.Name == v) {
				return true
			}
		}
	}
	return false
}

// ---- Event payloads ----

// The fixed TLS details of recorded events: the emulator serves plain HTTP,
// real endpoints TLS 1.3 with this suite (as published events show).
const (
	trailTLSVersion  = "TLSv1.3"
	trailCipherSuite = "TLS_AES_128_GCM_SHA256"
	// trailExpirationLayout is how STS events print credentials.expiration
	// ("Jul 9, 2024, 4:41:37 PM").
	trailExpirationLayout = "Jan 2, 2006, 3:04:05 PM"
)

type trailTLS struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

type trailRoleResource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// trailEnvelope is an event's JSON, members in CloudTrail's order.
type trailEnvelope struct {
	EventVersion        string              `json:"eventVersion"`
	UserIdentity        any                 `json:"userIdentity"`
	EventTime           string              `json:"eventTime"`
	EventSource         string              `json:"eventSource"`
	EventName           string              `json:"eventName"`
	AWSRegion           string              `json:"awsRegion"`
	SourceIPAddress     string              `json:"sourceIPAddress"`
	UserAgent           string              `json:"userAgent"`
	ErrorCode           string              `json:"errorCode,omitempty"`
	ErrorMessage        string              `json:"errorMessage,omitempty"`
	RequestParameters   any                 `json:"requestParameters"`
	ResponseElements    any                 `json:"responseElements"`
	AdditionalEventData any                 `json:"additionalEventData,omitempty"`
	RequestID           string              `json:"requestID"`
	EventID             string              `json:"eventID"`
	ReadOnly            bool                `json:"readOnly"`
	Resources           []trailRoleResource `json:"resources,omitempty"`
	EventType           string              `json:"eventType"`
	ManagementEvent     bool                `json:"managementEvent"`
	RecipientAccountID  string              `json:"recipientAccountId"`
	SharedEventID       string              `json:"sharedEventID,omitempty"`
	EventCategory       string              `json:"eventCategory"`
	TLSDetails          *trailTLS           `json:"tlsDetails,omitempty"`
}

// marshalTrail writes JSON as CloudTrail does, without HTML escaping.
func marshalTrail(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only maps, strings and structs of them are encoded: unreachable.
		return "{}"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// WebIdentityCall is one sts:AssumeRoleWithWebIdentity as CloudTrail records
// it. ErrorCode empty means it succeeded.
type WebIdentityCall struct {
	// Account defaults to the role's; Region to Region; Time to now.
	Account, Region string
	Time            time.Time
	// ProviderARN is the IAM OIDC provider's ARN
	// (arn:aws:iam::ACCOUNT:oidc-provider/ISSUER-HOST); Audience and Subject
	// are the token's aud and sub.
	ProviderARN, Audience, Subject string
	RoleARN, RoleSessionName       string
	// DurationSeconds is logged when the request set it (> 0).
	DurationSeconds int
	// UserAgent and Host are the request's headers, verbatim; SourceIP
	// defaults to 127.0.0.1 and Host to sts.REGION.amazonaws.com.
	UserAgent, SourceIP, Host string
	// AccessKeyID and Expiration are the issued credentials' (success only;
	// generated and Time+1h when empty).
	AccessKeyID string
	Expiration  time.Time
	// ErrorCode and ErrorMessage are logged verbatim (the live STS logs
	// "An unknown error occurred" for AccessDenied, as the real one does).
	ErrorCode, ErrorMessage string
	// RequestID and EventID are UUIDs, generated when empty.
	RequestID, EventID string
}

type webIdentityUser struct {
	Type             string `json:"type"`
	PrincipalID      string `json:"principalId"`
	UserName         string `json:"userName"`
	IdentityProvider string `json:"identityProvider"`
}

type webIdentityParams struct {
	RoleARN         string `json:"roleArn"`
	RoleSessionName string `json:"roleSessionName"`
	DurationSeconds int    `json:"durationSeconds,omitempty"`
}

type trailCredentials struct {
	AccessKeyID string `json:"accessKeyId"`
	Expiration  string `json:"expiration"`
}

type trailAssumedRoleUser struct {
	AssumedRoleID string `json:"assumedRoleId"`
	ARN           string `json:"arn"`
}

type webIdentityResponse struct {
	Credentials                 trailCredentials     `json:"credentials"`
	SubjectFromWebIdentityToken string               `json:"subjectFromWebIdentityToken"`
	AssumedRoleUser             trailAssumedRoleUser `json:"assumedRoleUser"`
	Provider                    string               `json:"provider"`
	Audience                    string               `json:"audience"`
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// WebIdentityTrailEvent builds the event CloudTrail records for an
// AssumeRoleWithWebIdentity, in the shape of the IAM User Guide's example
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html)
// and of published failures: a WebIdentityUser, the role as resource,
// responseElements null on failure, credentials without secret or session
// token on success. The emulated STS records its calls through it.
func WebIdentityTrailEvent(c WebIdentityCall) TrailEvent {
	if c.Account == "" {
		c.Account = accountOf(c.RoleARN)
	}
	c.Region = orDefault(c.Region, Region)
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = c.Time.UTC().Truncate(time.Second)
	c.RequestID = orDefault(c.RequestID, requestID())
	c.EventID = orDefault(c.EventID, requestID())
	ev := trailEnvelope{
		EventVersion: "1.08",
		UserIdentity: webIdentityUser{Type: "WebIdentityUser", PrincipalID: c.ProviderARN + ":" + c.Audience + ":" + c.Subject,
			UserName: c.Subject, IdentityProvider: c.ProviderARN},
		EventTime:   c.Time.Format(time.RFC3339),
		EventSource: EventSourceSTS, EventName: EventNameWebIdentity, AWSRegion: c.Region,
		SourceIPAddress: orDefault(c.SourceIP, "127.0.0.1"), UserAgent: c.UserAgent,
		ErrorCode: c.ErrorCode, ErrorMessage: c.ErrorMessage,
		RequestParameters: webIdentityParams{RoleARN: c.RoleARN, RoleSessionName: c.RoleSessionName, DurationSeconds: c.DurationSeconds},
		RequestID:         c.RequestID, EventID: c.EventID, ReadOnly: true,
		Resources: []trailRoleResource{{AccountID: accountOf(c.RoleARN), Type: "AWS::IAM::Role", ARN: c.RoleARN}},
		EventType: "AwsApiCall", ManagementEvent: true, RecipientAccountID: c.Account, EventCategory: "Management",
		TLSDetails: &trailTLS{TLSVersion: trailTLSVersion, CipherSuite: trailCipherSuite,
			ClientProvidedHostHeader: orDefault(c.Host, "sts."+c.Region+".amazonaws.com")},
	}
	if c.ErrorCode == "" {
		if c.AccessKeyID == "" {
			c.AccessKeyID = "ASIA" + strings.ToUpper(strings.ReplaceAll(c.RequestID, "-", ""))[:16]
		}
		if c.Expiration.IsZero() {
			c.Expiration = c.Time.Add(time.Hour)
		}
		session := c.RoleSessionName
		ev.ResponseElements = webIdentityResponse{
			Credentials:                 trailCredentials{AccessKeyID: c.AccessKeyID, Expiration: c.Expiration.UTC().Format(trailExpirationLayout)},
			SubjectFromWebIdentityToken: c.Subject,
			AssumedRoleUser: trailAssumedRoleUser{AssumedRoleID: roleID(c.RoleARN) + ":" + session,
				ARN: assumedRoleARN(c.RoleARN, session)},
			Provider: c.ProviderARN,
			Audience: c.Audience,
		}
		// The emulator trusts an issuer only through its thumbprints.
		ev.AdditionalEventData = map[string]string{"identityProviderConnectionVerificationMethod": "Thumbprint"}
	}
	return TrailEvent{
		Account: c.Account, Region: c.Region, Time: c.Time, EventID: c.EventID,
		EventName: EventNameWebIdentity, EventSource: EventSourceSTS, Username: c.Subject, ReadOnly: "true",
		Resources: []TrailResource{{Type: "AWS::IAM::Role", Name: c.RoleARN}},
		Payload:   marshalTrail(ev),
	}
}

// assumedRoleARN is the session ARN of a role:
// arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION.
func assumedRoleARN(roleARN, session string) string {
	partition := orDefault(arnPart(roleARN, 1), "aws")
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, accountOf(roleARN), name, session)
}

// PodIdentityCall is one eks-auth:AssumeRoleForPodIdentity as CloudTrail
// records it. ErrorCode empty means it succeeded.
type PodIdentityCall struct {
	// Account defaults to the caller's; Region to Region; Time to now.
	Account, Region string
	Time            time.Time
	ClusterName     string
	// CallerARN is the node role's session
	// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) or an IAM user;
	// CallerPrincipalID its unique id (AROA…:SESSION, derived when empty);
	// CallerAccessKeyID the key the request was signed with.
	CallerARN, CallerPrincipalID, CallerAccessKeyID string
	// UserAgent and Host are the request's headers, verbatim; SourceIP
	// defaults to 127.0.0.1 and Host to eks-auth.REGION.api.aws.
	UserAgent, SourceIP, Host string
	// ErrorCode and ErrorMessage are logged verbatim (the live EKS Auth logs
	// AccessDenied for AccessDeniedException, as the real one does).
	ErrorCode, ErrorMessage string
	RequestID, EventID      string
}

type podIdentityParams struct {
	ClusterName string `json:"clusterName"`
	Token       string `json:"token"`
}

type sessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type sessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type sessionContext struct {
	SessionIssuer sessionIssuer     `json:"sessionIssuer"`
	Attributes    sessionAttributes `json:"attributes"`
	// EC2RoleDelivery is "2.0" for an instance profile's session (IMDSv2),
	// as a node role's is.
	EC2RoleDelivery string `json:"ec2RoleDelivery,omitempty"`
}

type callerIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
}

// callerUserIdentity is the userIdentity of a signed call and the Username
// LookupEvents shows for it: an assumed role's session name, an IAM user's
// name.
func callerUserIdentity(arn, principalID, akid string, at time.Time) (callerIdentity, string) {
	acct := accountOf(arn)
	res := arn
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		res = parts[5]
	}
	if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
		role, session, _ := strings.Cut(rest, "/")
		roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", orDefault(arnPart(arn, 1), "aws"), acct, role)
		rid := roleID(roleARN)
		if principalID == "" || !strings.Contains(principalID, ":") {
			principalID = rid + ":" + session
		} else {
			rid, _, _ = strings.Cut(principalID, ":")
		}
		sc := &sessionContext{
			SessionIssuer: sessionIssuer{Type: "Role", PrincipalID: rid, ARN: roleARN, AccountID: acct, UserName: role},
			Attributes:    sessionAttributes{CreationDate: at.Add(-time.Hour).Format(time.RFC3339), MFAAuthenticated: "false"},
		}
		if strings.HasPrefix(session, "i-") {
			sc.EC2RoleDelivery = "2.0"
		}
		return callerIdentity{Type: "AssumedRole", PrincipalID: principalID, ARN: arn, AccountID: acct, AccessKeyID: akid, SessionContext: sc}, session
	}
	name := res[strings.LastIndex(res, "/")+1:]
	return callerIdentity{Type: "IAMUser", PrincipalID: principalID, ARN: arn, AccountID: acct, AccessKeyID: akid, UserName: name}, name
}

// PodIdentityTrailEvent builds the event CloudTrail records for an
// AssumeRoleForPodIdentity, in the shape of published events: the node
// role's session as userIdentity, the token logged as
// HIDDEN_DUE_TO_SECURITY_REASONS, responseElements null on success and
// failure alike (EKS Auth logs no subject, association or credentials), no
// resources in the payload but the cluster (AWS::EKS::Cluster) in
// LookupEvents. The emulated EKS Auth records its calls through it.
func PodIdentityTrailEvent(c PodIdentityCall) TrailEvent {
	if c.Account == "" {
		c.Account = accountOf(c.CallerARN)
	}
	c.Region = orDefault(c.Region, Region)
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = c.Time.UTC().Truncate(time.Second)
	c.RequestID = orDefault(c.RequestID, requestID())
	c.EventID = orDefault(c.EventID, requestID())
	who, username := callerUserIdentity(c.CallerARN, c.CallerPrincipalID, c.CallerAccessKeyID, c.Time)
	ev := trailEnvelope{
		EventVersion: "1.09", UserIdentity: who,
		EventTime:   c.Time.Format(time.RFC3339),
		EventSource: EventSourceEKSAuth, EventName: EventNamePodIdentity, AWSRegion: c.Region,
		SourceIPAddress: orDefault(c.SourceIP, "127.0.0.1"), UserAgent: c.UserAgent,
		ErrorCode: c.ErrorCode, ErrorMessage: c.ErrorMessage,
		RequestParameters: podIdentityParams{ClusterName: c.ClusterName, Token: hiddenToken},
		RequestID:         c.RequestID, EventID: c.EventID, ReadOnly: true,
		EventType: "AwsApiCall", ManagementEvent: true, RecipientAccountID: c.Account, EventCategory: "Management",
		TLSDetails: &trailTLS{TLSVersion: trailTLSVersion, CipherSuite: trailCipherSuite,
			ClientProvidedHostHeader: orDefault(c.Host, "eks-auth."+c.Region+".api.aws")},
	}
	return TrailEvent{
		Account: c.Account, Region: c.Region, Time: c.Time, EventID: c.EventID,
		EventName: EventNamePodIdentity, EventSource: EventSourceEKSAuth, Username: username, ReadOnly: "true",
		AccessKeyID: c.CallerAccessKeyID,
		Resources:   []TrailResource{{Type: "AWS::EKS::Cluster", Name: c.ClusterName}},
		Payload:     marshalTrail(ev),
	}
}

// PodIdentityRoleCall is the sts:AssumeRole EKS makes, as the service
// pods.eks.amazonaws.com, for a successful AssumeRoleForPodIdentity. Unlike
// EKS Auth's own event it names the subject: the session tags carry the
// cluster, namespace, service account and pod.
type PodIdentityRoleCall struct {
	// Account defaults to the role's; Region to Region; Time to now.
	Account, Region string
	Time            time.Time
	RoleARN         string
	RoleSessionName string
	// DurationSeconds defaults to 21600, the six hours EKS asks for.
	DurationSeconds int
	// Tags are the session tags (eks-cluster-arn, eks-cluster-name,
	// kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name,
	// kubernetes-pod-uid); none when the association disables them.
	Tags map[string]string
	// AccessKeyID and Expiration are the issued credentials' (generated and
	// Time+DurationSeconds when empty).
	AccessKeyID string
	Expiration  time.Time
	// RequestID, EventID and SharedEventID are generated when empty.
	RequestID, EventID, SharedEventID string
}

// podIdentityTagOrder is the order EKS sends its session tags in.
var podIdentityTagOrder = []string{tagClusterARN, tagClusterName, tagNamespace, tagServiceAccount, tagPodName, tagPodUID}

type trailTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type assumeRoleParams struct {
	RoleARN           string     `json:"roleArn"`
	RoleSessionName   string     `json:"roleSessionName"`
	DurationSeconds   int        `json:"durationSeconds"`
	Tags              []trailTag `json:"tags,omitempty"`
	TransitiveTagKeys []string   `json:"transitiveTagKeys,omitempty"`
}

type serviceIdentity struct {
	Type      string `json:"type"`
	InvokedBy string `json:"invokedBy"`
}

type assumeRoleResponse struct {
	Credentials     trailCredentials     `json:"credentials"`
	AssumedRoleUser trailAssumedRoleUser `json:"assumedRoleUser"`
}

// PodIdentityRoleTrailEvent builds the sts:AssumeRole event of EKS Pod
// Identity, in the shape of published events: userIdentity AWSService
// invoked by pods.eks.amazonaws.com, the session tags in
// requestParameters, no tlsDetails, credentials without secret or session
// token. The emulated EKS Auth records it, next to its own event, for every
// successful call without a target role.
func PodIdentityRoleTrailEvent(c PodIdentityRoleCall) TrailEvent {
	if c.Account == "" {
		c.Account = accountOf(c.RoleARN)
	}
	c.Region = orDefault(c.Region, Region)
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = c.Time.UTC().Truncate(time.Second)
	if c.DurationSeconds == 0 {
		c.DurationSeconds = int(podIdentityCredentialTTL / time.Second)
	}
	c.RequestID = orDefault(c.RequestID, requestID())
	c.EventID = orDefault(c.EventID, requestID())
	c.SharedEventID = orDefault(c.SharedEventID, requestID())
	if c.AccessKeyID == "" {
		c.AccessKeyID = "ASIA" + strings.ToUpper(strings.ReplaceAll(c.RequestID, "-", ""))[:16]
	}
	if c.Expiration.IsZero() {
		c.Expiration = c.Time.Add(time.Duration(c.DurationSeconds) * time.Second)
	}
	params := assumeRoleParams{RoleARN: c.RoleARN, RoleSessionName: c.RoleSessionName, DurationSeconds: c.DurationSeconds}
	for _, k := range podIdentityTagOrder {
		if v, ok := c.Tags[k]; ok {
			params.Tags = append(params.Tags, trailTag{Key: k, Value: v})
			params.TransitiveTagKeys = append(params.TransitiveTagKeys, k)
		}
	}
	ev := trailEnvelope{
		EventVersion: "1.08",
		UserIdentity: serviceIdentity{Type: "AWSService", InvokedBy: podIdentityPrincipal},
		EventTime:    c.Time.Format(time.RFC3339),
		EventSource:  EventSourceSTS, EventName: "AssumeRole", AWSRegion: c.Region,
		SourceIPAddress: podIdentityPrincipal, UserAgent: podIdentityPrincipal,
		RequestParameters: params,
		ResponseElements: assumeRoleResponse{
			Credentials: trailCredentials{AccessKeyID: c.AccessKeyID, Expiration: c.Expiration.UTC().Format(trailExpirationLayout)},
			AssumedRoleUser: trailAssumedRoleUser{AssumedRoleID: roleID(c.RoleARN) + ":" + c.RoleSessionName,
				ARN: assumedRoleARN(c.RoleARN, c.RoleSessionName)},
		},
		RequestID: c.RequestID, EventID: c.EventID, ReadOnly: true,
		Resources: []trailRoleResource{{AccountID: accountOf(c.RoleARN), Type: "AWS::IAM::Role", ARN: c.RoleARN}},
		EventType: "AwsApiCall", ManagementEvent: true, RecipientAccountID: c.Account,
		SharedEventID: c.SharedEventID, EventCategory: "Management",
	}
	return TrailEvent{
		Account: c.Account, Region: c.Region, Time: c.Time, EventID: c.EventID,
		EventName: "AssumeRole", EventSource: EventSourceSTS, ReadOnly: "true",
		Resources: []TrailResource{{Type: "AWS::IAM::Role", Name: c.RoleARN}},
		Payload:   marshalTrail(ev),
	}
}

// ---- Recording the emulator's own calls ----

// sourceIP is the host part of the request's remote address.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// stsRegionOf is the region STS logs a call in: the SigV4 scope's when
// signed, else the Host's (sts.amazonaws.com is the global endpoint, logged
// in us-east-1; sts.REGION.amazonaws.com[.cn] and sts-fips.REGION… are
// regional), else Region, the region the kit's clients are configured with.
func stsRegionOf(r *http.Request) string {
	if _, region := scopeParts(r); region != "" {
		return region
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "sts.amazonaws.com" {
		return "us-east-1"
	}
	for _, prefix := range []string{"sts.", "sts-fips."} {
		if rest, ok := strings.CutPrefix(host, prefix); ok {
			if region, _, ok := strings.Cut(rest, "."); ok && region != "" && strings.HasPrefix(rest[len(region):], ".amazonaws.com") {
				return region
			}
		}
	}
	return Region
}

// recordTrail records a call of the emulated STS or EKS Auth as CloudTrail
// would: out is the successful answer (nil on failure).
func (s *Server) recordTrail(req request, out any, aerr *apiError) {
	if req.httpReq == nil {
		return
	}
	switch {
	case isWebIdentityCall(req):
		s.recordWebIdentity(req, out, aerr)
	case req.service == "eks-auth" && req.op == opAssumeRoleForPodIdentity:
		s.recordPodIdentity(req, aerr)
		if resp, ok := out.(*assumeRoleForPodIdentityResponse); ok && resp != nil && aerr == nil {
			s.recordPodIdentityRole(req, resp)
		}
	}
}

func (s *Server) recordWebIdentity(req request, out any, aerr *apiError) {
	param := func(k string) string {
		if v := req.params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	roleARN := param("RoleArn")
	acct := accountOf(roleARN)
	// A token that is not even a JWT is not logged: CloudTrail leaves out
	// unauthenticated STS requests not valid enough to be trusted as
	// legitimate (IAM User Guide, cloudtrail-integration). Without a role
	// ARN there is no account to log in.
	tok, _, ok := decodeJWT(param("WebIdentityToken"))
	if !ok || acct == "" {
		return
	}
	r := req.httpReq
	c := WebIdentityCall{
		Account: acct, Region: stsRegionOf(r), Time: s.trailNow(),
		Subject: tok.claims.Sub, RoleARN: roleARN, RoleSessionName: param("RoleSessionName"),
		UserAgent: r.UserAgent(), SourceIP: sourceIP(r), Host: r.Host,
	}
	if len(tok.aud) > 0 {
		c.Audience = tok.aud[0]
	}
	if host := strings.TrimPrefix(tok.claims.Iss, "https://"); host != "" {
		c.ProviderARN = fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", orDefault(arnPart(roleARN, 1), "aws"), acct, host)
	}
	if v := param("DurationSeconds"); v != "" {
		_, _ = fmt.Sscanf(v, "%d", &c.DurationSeconds)
	}
	if resp, ok := out.(*assumeRoleWithWebIdentityResponse); ok && aerr == nil {
		c.Audience = resp.Audience
		c.AccessKeyID = resp.Credentials.AccessKeyID
		c.RequestID = resp.Metadata.RequestID
		if exp, err := time.Parse(time.RFC3339, resp.Credentials.Expiration); err == nil {
			c.Expiration = exp
		}
	} else if aerr != nil {
		c.ErrorCode, c.ErrorMessage = aerr.code, aerr.message
		if aerr.code == "AccessDenied" {
			c.ErrorMessage = msgUnknownError
		}
	}
	s.AddTrailEvent(WebIdentityTrailEvent(c))
}

func (s *Server) recordPodIdentity(req request, aerr *apiError) {
	r := req.httpReq
	akid, region := scopeParts(r)
	s.mu.Lock()
	caller := s.caller
	s.mu.Unlock()
	c := PodIdentityCall{
		Account: caller.Account, Region: orDefault(region, Region), Time: s.trailNow(),
		ClusterName: req.resource, CallerARN: caller.ARN, CallerPrincipalID: caller.UserID, CallerAccessKeyID: akid,
		UserAgent: r.UserAgent(), SourceIP: sourceIP(r), Host: r.Host,
	}
	if aerr != nil {
		c.ErrorCode, c.ErrorMessage = aerr.code, aerr.message
		if aerr.code == "AccessDeniedException" {
			// What CloudTrail logs for EKS Auth's AccessDeniedException.
			c.ErrorCode = "AccessDenied"
		}
	}
	s.AddTrailEvent(PodIdentityTrailEvent(c))
}

// recordPodIdentityRole records EKS's sts:AssumeRole behind a successful
// AssumeRoleForPodIdentity, with the session tags the emulator evaluated
// the trust with. With a target role EKS chains a second AssumeRole; that
// pair is not recorded.
func (s *Server) recordPodIdentityRole(req request, out *assumeRoleForPodIdentityResponse) {
	var in struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(req.body, &in) != nil {
		return
	}
	tok, _, ok := decodeJWT(in.Token)
	if !ok {
		return
	}
	sub, _ := subjectOf(tok)
	assoc, ok := s.associationFor(req.resource, out.Subject.Namespace, out.Subject.ServiceAccount)
	if !ok || assoc.TargetRoleARN != "" {
		return
	}
	s.mu.Lock()
	clusterARN := ""
	if c, ok := s.clusters[req.resource]; ok {
		clusterARN = c.ARN
	}
	callerAccount := s.caller.Account
	s.mu.Unlock()
	if clusterARN == "" {
		clusterARN = fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, callerAccount, req.resource)
	}
	var tags map[string]string
	if !assoc.DisableSessionTags {
		tags = map[string]string{tagClusterARN: clusterARN, tagClusterName: req.resource,
			tagNamespace: out.Subject.Namespace, tagServiceAccount: out.Subject.ServiceAccount}
		if sub.podName != "" {
			tags[tagPodName] = sub.podName
		}
		if sub.podUID != "" {
			tags[tagPodUID] = sub.podUID
		}
	}
	_, region := scopeParts(req.httpReq)
	arn := out.AssumedRoleUser.Arn
	s.AddTrailEvent(PodIdentityRoleTrailEvent(PodIdentityRoleCall{
		Region: orDefault(region, Region), Time: s.trailNow(), RoleARN: assoc.RoleARN,
		RoleSessionName: arn[strings.LastIndex(arn, "/")+1:], Tags: tags,
		AccessKeyID: out.Credentials.AccessKeyID, Expiration: time.Unix(out.Credentials.Expiration, 0),
	}))
}

// HostClient is an HTTP client that sends each request where its URL says
// but with the Host header host, so a test can present an emulator call as
// one to, say, the global STS endpoint ("sts.amazonaws.com", logged in
// us-east-1) or sts.eu-west-1.amazonaws.com; "" keeps the request's. It
// hands net/http the request
// body with Read and Close only, as pkg/cloud does (docs/design.md, Request
// bodies), so a quick answer does not close the connection under it.
func HostClient(host string) *http.Client {
	return &http.Client{Transport: hostTransport{host: host}}
}

type hostTransport struct{ host string }

// plainBody hides the WriteTo of the SDK's request body.
type plainBody struct{ io.ReadCloser }

func (t hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if t.host != "" {
		r.Host = t.host
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = plainBody{r.Body}
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, fmt.Errorf("fakeaws host %s: %w", t.host, err)
	}
	return resp, nil
}
