import { createParser } from "eventsource-parser";

/**
 * Reads a server-sent-events body until it ends, handing over each event's data as soon as its record is
 * complete (OpenCode's event streams; the agent-stream bench reads them the same way).
 */
export async function readSseData(
  body: ReadableStream<Uint8Array>,
  onData: (data: string) => void,
): Promise<void> {
  const parser = createParser({
    onEvent: (event) => {
      if (event.data) onData(event.data);
    },
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.feed(decoder.decode(value, { stream: true }));
  }
}
