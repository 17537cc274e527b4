package anthropic

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestScanFlatEvent checks that the events read without reflection read
// exactly as json.Unmarshal reads them, and that the others are left to it.
func TestScanFlatEvent(t *testing.T) {
	tests := []struct {
		name string
		data string
		flat bool // read by scanFlatEvent
	}{
		{"text delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`, true},
		{"escaped text", `{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"a\"b\\c\n\u00e9\ud83d\ude00"}}`, true},
		{"UTF-8 text", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo 世界"}}`, true},
		{"invalid UTF-8 is repaired", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\xffb\"}}", true},
		{"spaces", ` { "type" : "content_block_delta" , "index" : 1 , "delta" : { "type" : "input_json_delta" , "partial_json" : "{\"a\":" } } `, true},
		{"thinking", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`, true},
		{"signature", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}`, true},
		{"escaped type", `{"type":"content_block_\u0064elta","index":0,"delta":{"type":"text_delta","text":"x"}}`, true},
		{"block stop", `{"type":"content_block_stop","index":3}`, true},
		{"message stop", `{"type":"message_stop"}`, true},
		{"ping", `{"type": "ping"}`, true},
		{"message delta has usage", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}`, false},
		{"null member", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}`, false},
		{"fractional index", `{"type":"content_block_stop","index":1.5}`, false},
		{"unknown delta member", `{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"x"}}}`, false},
		{"message start", `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c","usage":{"input_tokens":1}}}`, false},
		{"not an object", `["content_block_stop"]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.data)
			if !json.Valid(data) {
				t.Fatalf("test event is not JSON: %s", data)
			}
			var w wireEvent
			var dl wireDelta
			got := scanFlatEvent(data, &w, &dl)
			if got != tt.flat {
				t.Fatalf("scanFlatEvent = %v, want %v", got, tt.flat)
			}
			if !got {
				return
			}
			var want wireEvent
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w, want) {
				t.Errorf("scanned %+v (delta %+v), json.Unmarshal read %+v (delta %+v)", w, w.Delta, want, want.Delta)
			}
		})
	}
}

// FuzzScanFlatEvent checks that whatever scanFlatEvent reads, it reads as
// json.Unmarshal does.
func FuzzScanFlatEvent(f *testing.F) {
	f.Add([]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`))
	f.Add([]byte(`{"type":"content_block_stop","index":3}`))
	f.Add([]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\u00e9\"\\"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var w wireEvent
		var dl wireDelta
		if !scanFlatEvent(data, &w, &dl) {
			return
		}
		var want wireEvent
		if err := json.Unmarshal(data, &want); err != nil {
			// encoding/json refuses what the walker accepts (an index out
			// of int64's range is refused by both): the event then goes
			// to json.Unmarshal, which must not accept it either.
			t.Fatalf("scanned %s, which json.Unmarshal refuses: %v", data, err)
		}
		if !reflect.DeepEqual(w, want) {
			t.Fatalf("%s: scanned %+v (delta %+v), json.Unmarshal read %+v (delta %+v)", data, w, w.Delta, want, want.Delta)
		}
	})
}
