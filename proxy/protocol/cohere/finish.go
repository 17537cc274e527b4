package cohere

import "github.com/sluicehq/sluice/proxy/protocol"

// readFinish is a Cohere finish_reason in the internal form. TIMEOUT cut
// the answer short, as a cap does, so it reads as length; a reason this
// adapter does not know reads as stop.
func readFinish(reason string) protocol.Finish {
	switch reason {
	case "MAX_TOKENS", "TIMEOUT":
		return protocol.FinishLength
	case "TOOL_CALL":
		return protocol.FinishToolCalls
	case "ERROR":
		return protocol.FinishError
	}
	return protocol.FinishStop
}

// writeFinish is a finish as Cohere's finish_reason. Cohere has no
// content filter reason: a withheld answer is an ERROR; a refusal and a
// paused turn are complete answers.
func writeFinish(f protocol.Finish, stopSequence string) string {
	switch f {
	case protocol.FinishLength:
		return "MAX_TOKENS"
	case protocol.FinishToolCalls:
		return "TOOL_CALL"
	case protocol.FinishContentFilter, protocol.FinishError:
		return "ERROR"
	}
	if stopSequence != "" {
		return "STOP_SEQUENCE"
	}
	return "COMPLETE"
}
