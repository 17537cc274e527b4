package responses

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

var update = flag.Bool("update", false, "rewrite testdata/request_*.json from the openai-go SDK's request parameters")

// Small base64 payloads for the image and document fixtures: a 1×1 PNG and
// the start of a PDF.
const (
	pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	pdfBase64 = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK"
)

var weatherSchema = map[string]any{
	"type":                 "object",
	"properties":           map[string]any{"city": map[string]any{"type": "string"}},
	"required":             []any{"city"},
	"additionalProperties": false,
}

// streamedFeature is the fixture sent as client.Responses.NewStreaming
// sends it.
const streamedFeature = "reasoning"

// sdkRequests are the requests of the testdata fixtures, built with the
// openai-go SDK's parameter types, so that each fixture is the body the
// SDK sends.
func sdkRequests() map[string]responses.ResponseNewParams {
	outputOf := func(callID string, item responses.ResponseInputItemUnionParam) responses.ResponseInputItemUnionParam {
		item.OfFunctionCallOutput.CallID = param.NewOpt(callID)
		return item
	}
	return map[string]responses.ResponseNewParams{
		"text": {
			Model:           "gpt-4.1",
			Instructions:    param.NewOpt("You are terse."),
			Input:           responses.ResponseNewParamsInputUnion{OfString: param.NewOpt("Say hello.")},
			MaxOutputTokens: param.NewOpt[int64](256),
			Temperature:     param.NewOpt(0.2),
			TopP:            param.NewOpt(0.9),
			User:            param.NewOpt("user-42"),
			Store:           param.NewOpt(false),
			Metadata:        shared.Metadata{"trace": "abc"},
		},
		"tools": {
			Model: "gpt-4.1",
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("What is the weather in Paris and Tokyo?", responses.EasyInputMessageRoleUser),
				responses.ResponseInputItemParamOfFunctionCall(`{"city":"Paris"}`, "call_paris", "get_weather"),
				responses.ResponseInputItemParamOfFunctionCall(`{"city":"Tokyo"}`, "call_tokyo", "get_weather"),
				outputOf("call_paris", responses.ResponseInputItemParamOfFunctionCallOutput("18C, sunny")),
				outputOf("call_tokyo", responses.ResponseInputItemParamOfFunctionCallOutput(responses.ResponseFunctionCallOutputItemListParam{
					{OfInputText: &responses.ResponseInputTextContentParam{Text: "22C, rain"}},
				})),
			}},
			Tools: []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
				Name:        "get_weather",
				Description: param.NewOpt("The current weather in a city."),
				Parameters:  weatherSchema,
				Strict:      param.NewOpt(true),
			}}},
			ToolChoice:        responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: param.NewOpt(responses.ToolChoiceOptionsAuto)},
			ParallelToolCalls: param.NewOpt(true),
		},
		"image": {
			Model: "gpt-4.1",
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
					{OfInputText: &responses.ResponseInputTextParam{Text: "What is in these images and this file?"}},
					{OfInputImage: &responses.ResponseInputImageParam{Detail: responses.ResponseInputImageDetailAuto, ImageURL: param.NewOpt("data:image/png;base64," + pngBase64)}},
					{OfInputImage: &responses.ResponseInputImageParam{Detail: responses.ResponseInputImageDetailLow, ImageURL: param.NewOpt("https://example.com/cat.jpg")}},
					{OfInputFile: &responses.ResponseInputFileParam{Filename: param.NewOpt("doc.pdf"), FileData: param.NewOpt("data:application/pdf;base64," + pdfBase64)}},
				}, responses.EasyInputMessageRoleUser),
			}},
		},
		"structured": {
			Model: "gpt-4.1",
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("Answer in JSON.", responses.EasyInputMessageRoleDeveloper),
				responses.ResponseInputItemParamOfMessage("Which city is the capital of France?", responses.EasyInputMessageRoleUser),
			}},
			Text: responses.ResponseTextConfigParam{Format: responses.ResponseFormatTextConfigUnionParam{
				OfJSONSchema: &responses.ResponseFormatTextJSONSchemaConfigParam{
					Name: "city", Schema: weatherSchema, Strict: param.NewOpt(true),
				},
			}},
		},
		"reasoning": {
			Model:     "o4-mini",
			Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortHigh, Summary: shared.ReasoningSummaryAuto},
			Include:   []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
			Store:     param.NewOpt(false),
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("How many r are in strawberry?", responses.EasyInputMessageRoleUser),
				sdkReasoningItem("rs_1", "Counting the letters one by one.", "gAAAAABencrypted"),
				responses.ResponseInputItemParamOfOutputMessage([]responses.ResponseOutputMessageContentUnionParam{
					{OfOutputText: &responses.ResponseOutputTextParam{Text: "Three.", Annotations: []responses.ResponseOutputTextAnnotationUnionParam{}}},
				}, "msg_1", responses.ResponseOutputMessageStatusCompleted),
				responses.ResponseInputItemParamOfMessage("And in raspberry?", responses.EasyInputMessageRoleUser),
			}},
		},
	}
}

func sdkReasoningItem(id, summary, encrypted string) responses.ResponseInputItemUnionParam {
	item := responses.ResponseInputItemParamOfReasoning(id, []responses.ResponseReasoningItemSummaryParam{{Text: summary}})
	item.OfReasoning.EncryptedContent = param.NewOpt(encrypted)
	return item
}

// TestFixturesAreSDKRequests checks that every request fixture is what the
// SDK sends for its parameters (go test -update rewrites them).
func TestFixturesAreSDKRequests(t *testing.T) {
	for feature, params := range sdkRequests() {
		t.Run(feature, func(t *testing.T) {
			body, err := json.Marshal(params)
			if err != nil {
				t.Fatal(err)
			}
			if feature == streamedFeature {
				// client.Responses.NewStreaming adds stream:true to the body.
				body = append(body[:len(body)-1], `,"stream":true}`...)
			}
			path := filepath.Join("testdata", "request_"+feature+".json")
			if *update {
				var v any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatal(err)
				}
				pretty, _ := json.MarshalIndent(v, "", "  ")
				if err := os.WriteFile(path, append(pretty, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var got, want any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(readFixture(t, path), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s differs from the SDK's body\nSDK:     %s", path, body)
			}
		})
	}
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
