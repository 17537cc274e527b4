package protocol

import (
	"encoding/json"
	"testing"
)

// TestAppendJSONString: whatever the text, the bytes are JSON that
// decodes to what encoding/json writes for it.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" back \\ slash", "ctl \x00\x01\x1f\t\r\n", "utf8 é 日本 🎉", "bad \xff\xfe", "sep \u2028\u2029", "<html>&"} {
		got := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decodes to %q, want %q", s, back, wantBack)
		}
	}
}
