package fakeaws

import "strings"

// EncodePolicy percent-encodes a policy document the way IAM returns it
// (AssumeRolePolicyDocument, GetRolePolicy, GetPolicyVersion): RFC 3986
// unreserved characters stay, every other byte of the UTF-8 text becomes %XX
// with upper-case hex, so '+' is %2B and a space is %20.
func EncodePolicy(doc string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
