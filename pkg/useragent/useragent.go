// Package useragent reads the userAgent string that CloudTrail records for a
// call and says which AWS SDK (or AWS CLI) made it, at which version, and
// whether that version is at least the minimum that supports IRSA (a web
// identity token file) or EKS Pod Identity (container credentials with an
// authorization token file).
//
// The formats it understands, the minimum tables and their public sources are
// in docs/behaviour.md#sdk-user-agents. The package is pure: no I/O, no clock.
//
// Parse never guesses. A string that names no SDK, names two different SDKs,
// or carries a version that does not look like one is reported as not
// understood (ok=false), so a finding can say "unknown user agent" instead of
// blaming the wrong SDK.
package useragent

import (
	"strings"
)

// maxUserAgentBytes bounds the input Parse reads. SDK user agents are a few
// hundred bytes even with every metadata token and a wrapper's prefix; a
// longer string was not written by an SDK alone, and reading it whole would
// let a hostile event make the parser do unbounded work.
const maxUserAgentBytes = 4096

// Mechanism is the credential mechanism a minimum version applies to.
type Mechanism int

const (
	// IRSA is IAM roles for service accounts: the SDK reads
	// AWS_WEB_IDENTITY_TOKEN_FILE and calls sts:AssumeRoleWithWebIdentity.
	IRSA Mechanism = iota + 1
	// PodIdentity is EKS Pod Identity: the SDK's container credential
	// provider calls the agent at AWS_CONTAINER_CREDENTIALS_FULL_URI with
	// the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
	PodIdentity
)

// String names the mechanism the way findings do.
func (m Mechanism) String() string {
	switch m {
	case IRSA:
		return "IRSA"
	case PodIdentity:
		return "EKS Pod Identity"
	default:
		return "unknown mechanism"
	}
}

// SDK is what Parse read from a user agent.
type SDK struct {
	// ID is a stable machine id: "go-v1", "go-v2", "boto3", "botocore",
	// "aws-cli-v1", "aws-cli-v2", "java-v1", "java-v2", "js-v2", "js-v3",
	// "dotnet", "ruby", "php", "cpp", "kotlin" or "rust".
	ID string
	// Name is the display name, e.g. "AWS SDK for Go v2".
	Name string
	// Version is the version the minimum tables apply to. It is not always
	// the SDK's own product version: for boto3 it is botocore's, which does
	// the credential resolution; for .NET it is AWSSDK.Core's. VersionOf
	// says whose version it is.
	Version string
	// VersionOf names the component Version belongs to, e.g. "botocore",
	// "AWSSDK.Core" or "github.com/aws/aws-sdk-go-v2 (core module)".
	VersionOf string
	// ProductVersion is the SDK's own advertised version when it differs
	// from the component Version is taken from (boto3's Boto3/x, .NET's
	// service package version); empty otherwise.
	ProductVersion string
}

// String describes the SDK for a finding: its name and version, and the
// component version the minimums were compared with when that differs, e.g.
// "AWS SDK for Python (Boto3) 1.28.62 (botocore 1.31.62)".
func (s SDK) String() string {
	if s.ProductVersion == "" {
		return s.Name + " " + s.Version
	}
	return s.Name + " " + s.ProductVersion + " (" + s.VersionOf + " " + s.Version + ")"
}

// sdkInfo is the static description of one SDK id.
type sdkInfo struct {
	name      string
	versionOf string
	// irsa and podIdentity are the minimum versions of versionOf; empty
	// where no public table gives one (docs/behaviour.md#sdk-user-agents).
	irsa        string
	podIdentity string
}

// allVersions is the minimum for an SDK whose every release supports the
// mechanism (the EKS guide says so for Go v2 and IRSA).
const allVersions = "0.0.0"

// sdks is the one table of ids, names and minimums. The minimums come from
// the EKS user guide pages "Use IRSA with the AWS SDK" and "Use pod identity
// with the AWS SDK", translated where the page names a release rather than
// the version the user agent carries; each translation is explained in
// docs/behaviour.md#sdk-user-agents.
var sdks = map[string]sdkInfo{
	"go-v1": {name: "AWS SDK for Go v1", versionOf: "github.com/aws/aws-sdk-go",
		irsa: "1.23.13", podIdentity: "1.47.11"},
	// The page gives release-2023-11-14 (config v1.25.0, credentials
	// v1.16.0); the user agent only carries the core module, which was
	// v1.22.2 in that release and is what config v1.25.0 requires. A core
	// below it proves the config module is too old; a core at or above it
	// cannot prove the config module is new enough.
	"go-v2": {name: "AWS SDK for Go v2", versionOf: "github.com/aws/aws-sdk-go-v2 (core module)",
		irsa: allVersions, podIdentity: "1.22.2"},
	// boto3 delegates credential resolution to botocore, so boto3 is judged
	// by the botocore version its user agent carries.
	"boto3": {name: "AWS SDK for Python (Boto3)", versionOf: "botocore",
		irsa: "1.12.200", podIdentity: "1.34.41"},
	"botocore": {name: "AWS SDK for Python (botocore)", versionOf: "botocore",
		irsa: "1.12.200", podIdentity: "1.34.41"},
	"aws-cli-v1": {name: "AWS CLI v1", versionOf: "aws-cli",
		irsa: "1.16.232", podIdentity: "1.30.0"},
	// The IRSA page does not list CLI v2; 2.0.0, its first general
	// release, already resolves web identity credentials.
	"aws-cli-v2": {name: "AWS CLI v2", versionOf: "aws-cli",
		irsa: "2.0.0", podIdentity: "2.15.0"},
	"java-v1": {name: "AWS SDK for Java 1.x", versionOf: "aws-sdk-java",
		irsa: "1.12.782", podIdentity: "1.12.746"},
	"java-v2": {name: "AWS SDK for Java 2.x", versionOf: "aws-sdk-java",
		irsa: "2.10.11", podIdentity: "2.21.30"},
	"js-v2": {name: "AWS SDK for JavaScript v2", versionOf: "aws-sdk (npm)",
		irsa: "2.525.0", podIdentity: "2.1550.0"},
	"js-v3": {name: "AWS SDK for JavaScript v3", versionOf: "@aws-sdk client package",
		irsa: "3.27.0", podIdentity: "3.458.0"},
	// The page names aws-sdk-net releases (3.3.659.1, 3.7.734.0); the
	// credential providers live in AWSSDK.Core, whose versions in those
	// releases were 3.3.104.14 and 3.7.302.0.
	"dotnet": {name: "AWS SDK for .NET", versionOf: "AWSSDK.Core",
		irsa: "3.3.104.14", podIdentity: "3.7.302.0"},
	"ruby": {name: "AWS SDK for Ruby", versionOf: "aws-sdk-core (gem)",
		irsa: "3.58.0", podIdentity: "3.188.0"},
	"php": {name: "AWS SDK for PHP", versionOf: "aws/aws-sdk-php",
		irsa: "3.110.7", podIdentity: "3.287.1"},
	"cpp": {name: "AWS SDK for C++", versionOf: "aws-sdk-cpp",
		irsa: "1.7.174", podIdentity: "1.11.263"},
	// The IRSA page lists neither Kotlin nor Rust; the Pod Identity page
	// gives Rust as release-2024-03-13, which is not mapped to the version
	// its user agent carries.
	"kotlin": {name: "AWS SDK for Kotlin", versionOf: "aws-sdk-kotlin",
		podIdentity: "1.0.1"},
	"rust": {name: "AWS SDK for Rust", versionOf: "aws-sdk-rust"},
}

// Minimum returns the minimum version of the component SDK.VersionOf names
// that supports mechanism, for the SDK with id sdkID. known is false for an
// unknown id or where no public table gives a minimum. "0.0.0" means every
// version. For go-v2 and PodIdentity the minimum is a core module version: a
// core below it is certainly too old, a core at or above it only makes the
// config module's support likely (docs/behaviour.md#sdk-user-agents).
func Minimum(sdkID string, mechanism Mechanism) (version string, known bool) {
	info, found := sdks[sdkID]
	if !found {
		return "", false
	}
	switch mechanism {
	case IRSA:
		version = info.irsa
	case PodIdentity:
		version = info.podIdentity
	default:
		return "", false
	}
	return version, version != ""
}

// AtLeast says whether sdk's Version is at least the minimum for mechanism,
// and returns that minimum for the finding to quote. known is false when
// there is no minimum or the version cannot be compared; ok is then false
// too and means nothing.
func AtLeast(sdk SDK, mechanism Mechanism) (ok bool, minimum string, known bool) {
	minimum, known = Minimum(sdk.ID, mechanism)
	if !known {
		return false, "", false
	}
	order, orderable := Compare(sdk.Version, minimum)
	if !orderable {
		return false, minimum, false
	}
	return order >= 0, minimum, true
}

// Parse reads a CloudTrail userAgent and returns the SDK that made the call.
// Wrappers (Terraform, eksctl, karpenter, the AWS CDK, Spark/Hadoop, APN
// prefixes, exec-env and md/ metadata) are skipped: the SDK's own product
// token decides. ok is false when the string names no SDK, names two
// different ones, or contradicts itself.
func Parse(userAgent string) (SDK, bool) {
	if len(userAgent) > maxUserAgentBytes {
		return SDK{}, false
	}
	var found tokens
	for _, field := range strings.Fields(unwrap(userAgent)) {
		if !found.add(field) {
			return SDK{}, false
		}
	}
	return found.resolve()
}

// unwrap removes the square brackets a botocore bug once put around the
// whole string when user_agent_extra was set
// (https://github.com/boto/botocore/issues/2318).
func unwrap(userAgent string) string {
	trimmed := strings.TrimSpace(userAgent)
	if len(trimmed) >= 2 && trimmed[0] == '[' && trimmed[len(trimmed)-1] == ']' {
		return trimmed[1 : len(trimmed)-1]
	}
	return trimmed
}

// versions collects the distinct versions one product token carried.
type versions []string

func (v *versions) add(version string) {
	for _, seen := range *v {
		if seen == version {
			return
		}
	}
	*v = append(*v, version)
}

// only returns the one version seen; more than one distinct version of the
// same product in one user agent is contradictory.
func (v versions) only() (string, bool) {
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// tokens is what Parse collected from the product tokens it knows.
type tokens struct {
	// primary holds the SDK ids whose own product token was seen, with its
	// versions (boto3, the CLI and .NET are resolved from the fields below).
	primary map[string]*versions
	// awsCLI, boto3 and botocore are the Python family, which nests: the CLI
	// and boto3 carry botocore's token too.
	awsCLI, boto3, botocore versions
	// dotnetCore and dotnetService are .NET's aws-sdk-dotnet-core/x and
	// aws-sdk-dotnet-<platform>/y.
	dotnetCore, dotnetService versions
}

// add records one whitespace-separated field. It returns false when a known
// product token carries something that is not a version, because the string
// then cannot be trusted at all.
func (t *tokens) add(field string) bool {
	// A comma or semicolon after a token separates, it is not part of it.
	field = strings.TrimRight(field, ",;")
	if rest, isBotocoreMetadata := cutBotocoreMetadata(field); isBotocoreMetadata {
		if !validVersion(rest) {
			return false
		}
		t.botocore.add(rest)
		return true
	}
	name, version, hasSlash := strings.Cut(field, "/")
	if !hasSlash {
		return true
	}
	target := t.target(name)
	if target == nil {
		return true
	}
	if !validVersion(version) {
		return false
	}
	target.add(version)
	return true
}

// cutBotocoreMetadata recognises the botocore version inside the user agent
// 2.0 format, "md/Botocore#1.34.41".
func cutBotocoreMetadata(field string) (string, bool) {
	for _, prefix := range []string{"md/Botocore#", "md/botocore#"} {
		if rest, ok := strings.CutPrefix(field, prefix); ok {
			return rest, true
		}
	}
	return "", false
}

// target returns where the version of the product called name goes, or nil
// for a product that is not an SDK (wrappers, runtimes, metadata).
func (t *tokens) target(name string) *versions {
	switch name {
	case "aws-cli":
		return &t.awsCLI
	case "Boto3":
		return &t.boto3
	case "Botocore", "botocore":
		return &t.botocore
	case "aws-sdk-dotnet-core":
		return &t.dotnetCore
	}
	if strings.HasPrefix(name, "aws-sdk-dotnet-") {
		// aws-sdk-dotnet-coreclr, -netstandard, -45, -35: the service
		// package's version, named after the platform build.
		return &t.dotnetService
	}
	if id, ok := productIDs[name]; ok {
		return t.primaryFor(id)
	}
	return nil
}

// productIDs maps the product token names that identify an SDK by themselves
// to an id family; versioned families (Java, JavaScript) are split by major
// version in resolve.
var productIDs = map[string]string{
	"aws-sdk-go":     "go-v1",
	"aws-sdk-go-v2":  "go-v2",
	"aws-sdk-java":   "java",
	"aws-sdk-nodejs": "js",
	"aws-sdk-js":     "js",
	"aws-sdk-ruby3":  "ruby",
	"aws-sdk-ruby2":  "ruby",
	"aws-sdk-php":    "php",
	"aws-sdk-cpp":    "cpp",
	"aws-sdk-kotlin": "kotlin",
	"aws-sdk-rust":   "rust",
}

func (t *tokens) primaryFor(id string) *versions {
	if t.primary == nil {
		t.primary = map[string]*versions{}
	}
	if t.primary[id] == nil {
		t.primary[id] = &versions{}
	}
	return t.primary[id]
}

// candidate is one SDK the tokens point at, before the ambiguity check.
type candidate struct {
	id             string
	version        string
	productVersion string
}

// resolve turns the collected tokens into exactly one SDK, or none.
func (t *tokens) resolve() (SDK, bool) {
	var candidates []candidate
	if python, present, ok := t.python(); !ok {
		return SDK{}, false
	} else if present {
		candidates = append(candidates, python)
	}
	if dotnet, present, ok := t.dotnet(); !ok {
		return SDK{}, false
	} else if present {
		candidates = append(candidates, dotnet)
	}
	for family, seen := range t.primary {
		version, ok := seen.only()
		if !ok {
			return SDK{}, false
		}
		id, ok := idForMajor(family, version)
		if !ok {
			return SDK{}, false
		}
		candidates = append(candidates, candidate{id: id, version: version})
	}
	// Two different SDKs in one user agent: which one made the call is a
	// guess, and Parse does not guess.
	if len(candidates) != 1 {
		return SDK{}, false
	}
	chosen := candidates[0]
	info := sdks[chosen.id]
	return SDK{
		ID:             chosen.id,
		Name:           info.name,
		Version:        chosen.version,
		VersionOf:      info.versionOf,
		ProductVersion: chosen.productVersion,
	}, true
}

// python resolves the nested Python family. The CLI's own version is what
// the EKS tables give for it; boto3 is judged by botocore, which must then
// be present. present is false when no Python token was seen; ok is false
// when the tokens contradict each other.
func (t *tokens) python() (chosen candidate, present, ok bool) {
	switch {
	case len(t.awsCLI) > 0:
		if len(t.boto3) > 0 {
			return candidate{}, true, false
		}
		version, single := t.awsCLI.only()
		if !single {
			return candidate{}, true, false
		}
		id, known := idForMajor("aws-cli", version)
		return candidate{id: id, version: version}, true, known
	case len(t.boto3) > 0:
		boto3, single := t.boto3.only()
		if !single {
			return candidate{}, true, false
		}
		botocore, single := t.botocore.only()
		if !single {
			return candidate{}, true, false
		}
		return candidate{id: "boto3", version: botocore, productVersion: boto3}, true, true
	case len(t.botocore) > 0:
		botocore, single := t.botocore.only()
		return candidate{id: "botocore", version: botocore}, true, single
	default:
		return candidate{}, false, true
	}
}

// dotnet resolves .NET, whose minimums are AWSSDK.Core versions: without the
// aws-sdk-dotnet-core token the string is not judged.
func (t *tokens) dotnet() (chosen candidate, present, ok bool) {
	if len(t.dotnetCore) == 0 && len(t.dotnetService) == 0 {
		return candidate{}, false, true
	}
	core, single := t.dotnetCore.only()
	if !single {
		return candidate{}, true, false
	}
	// The service package's version is only shown; several clients' tokens
	// cannot occur in one request, so the first one is the caller's.
	var service string
	if len(t.dotnetService) > 0 {
		service = t.dotnetService[0]
	}
	return candidate{id: "dotnet", version: core, productVersion: service}, true, true
}

// idForMajor splits the product names that several major versions share
// ("aws-cli", "aws-sdk-java", "aws-sdk-js") into ids by major version. An
// unknown major version is not guessed at.
func idForMajor(family, version string) (string, bool) {
	byMajor, split := majorIDs[family]
	if !split {
		_, known := sdks[family]
		return family, known
	}
	parsed, ok := parseVersion(version)
	if !ok {
		return "", false
	}
	id, known := byMajor[strings.TrimLeft(parsed.numbers[0], "0")]
	return id, known
}

var majorIDs = map[string]map[string]string{
	"aws-cli": {"1": "aws-cli-v1", "2": "aws-cli-v2"},
	"java":    {"1": "java-v1", "2": "java-v2"},
	// aws-sdk-nodejs/2.x is JS v2 in Node.js, aws-sdk-js/2.x JS v2 in a
	// browser, aws-sdk-js/3.x JS v3.
	"js": {"2": "js-v2", "3": "js-v3"},
}
