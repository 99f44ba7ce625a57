// One conversation held by the official ElevenLabs JS client (@elevenlabs/client) with a
// local agent; what the client saw goes to stdout as JSON lines for pytest to check.
//
//   node converse.mjs MODE BASE_URL AGENT_ID
//
// MODE: text    public agent, text only: one user message, the agent's reply, end
//       signed  private agent: GET a signed URL with xi-api-key, connect with it (text only)
//       bearer  private agent: the client's `authorization` option (bearer subprotocol)
//       voice   the client's voice path over its WebSocket connection; the browser's
//               microphone and speaker are stand-ins (see ./node-audio.mjs)
//       tools   text only, with the client tool get_local_time registered
// Environment: XI_API_KEY (signed, bearer; never in argv), USER_TEXT (the user's message),
// VOICE_PCM (voice: raw PCM16 mono for the microphone), PLAYED_PCM (voice: where the
// played agent audio is written), TIMEOUT_MS (default 20000).
//
// Lines: {"event": NAME, ...}. The last one is {"event":"done","ok":true} or an "error"
// line followed by exit status 1.

import { readFileSync, writeFileSync } from "node:fs";
import WebSocket from "ws";
import { Conversation } from "@elevenlabs/client";
import { nodeVoiceSetup } from "./node-audio.mjs";

globalThis.WebSocket = WebSocket; // Node 20 has no global WebSocket

const [mode, baseUrl, agentId] = process.argv.slice(2);
const env = process.env;
const timeoutMs = Number(env.TIMEOUT_MS || 20000);
const seen = [];
const waiters = [];

function emit(event, fields = {}) {
  const line = { event, ...fields };
  seen.push(line);
  process.stdout.write(JSON.stringify(line) + "\n");
  for (const w of [...waiters]) {
    if (w.test(line)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  }
}

function fail(message) {
  emit("error", { where: "script", message: String(message) });
  process.exit(1);
}

/** The first line (already seen, or still to come) for which test(line) holds. */
function waitFor(what, test) {
  const found = seen.find(test);
  if (found) return Promise.resolve(found);
  return new Promise(resolve => waiters.push({ test, resolve, what }));
}

const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms waiting for: ${
  waiters.map(w => w.what).join(", ") || "the end"}`), timeoutMs);

const callbacks = {
  onConnect: ({ conversationId }) => emit("connect", { conversation_id: conversationId }),
  onConversationMetadata: m => emit("metadata", m),
  onStatusChange: ({ status }) => emit("status", { status }),
  onModeChange: ({ mode: m }) => emit("mode", { mode: m }),
  onMessage: ({ source, role, message, event_id }) => emit("message", { source, role, message, event_id }),
  onAudio: b64 => emit("audio_event", { bytes: Buffer.from(b64, "base64").length }),
  onInterruption: e => emit("interruption", e),
  onPing: e => emit("ping", e),
  onError: (message, context) => emit("error", { where: "client", message, context }),
  onDebug: info => emit("debug", { info }),
  onDisconnect: details => emit("disconnect", details),
  onUnhandledClientToolCall: call => emit("unhandled_tool_call", call),
};

async function signedUrl() {
  const url = `${baseUrl}/v1/convai/conversation/get-signed-url?agent_id=${encodeURIComponent(agentId)}`;
  const reply = await fetch(url, { headers: { "xi-api-key": env.XI_API_KEY ?? "" } });
  if (!reply.ok) fail(`get-signed-url answered ${reply.status}`);
  const { signed_url: signed } = await reply.json();
  emit("signed_url", { path: new URL(signed).pathname });
  return signed;
}

async function options() {
  const origin = baseUrl.replace(/^http/, "ws");
  switch (mode) {
    case "text":
      return { agentId, origin, textOnly: true };
    case "signed":
      return { signedUrl: await signedUrl(), textOnly: true };
    case "bearer":
      return { agentId, origin, authorization: env.XI_API_KEY, textOnly: true };
    case "tools":
      return {
        agentId, origin, textOnly: true,
        clientTools: {
          get_local_time: async parameters => {
            emit("tool_call", { name: "get_local_time", parameters });
            return "It is 10:42 local time.";
          },
        },
      };
    case "voice":
      nodeVoiceSetup({
        pcm: readFileSync(env.VOICE_PCM),
        onPlayed: pcm => env.PLAYED_PCM && writeFileSync(env.PLAYED_PCM, pcm),
        emit,
      });
      return { agentId, origin, connectionType: "websocket" };
    default:
      return fail(`unknown mode ${mode}: expected text, signed, bearer, voice or tools`);
  }
}

// The reply's text comes with its first audio chunk and the rest of the audio follows in real
// time, so the speaker may run dry between two chunks: the reply has been played once the
// speaker is done and no more of its audio came for a while.
async function replyPlayed(from, quietMs = 700) {
  for (;;) {
    const done = await waitFor("playback finished",
      l => l.event === "playback" && l.finished && seen.indexOf(l) >= from);
    await new Promise(resolve => setTimeout(resolve, quietMs));
    from = seen.indexOf(done) + 1;
    if (!seen.slice(from).some(l => l.event === "audio_event" || l.event === "played")) return;
  }
}

async function main() {
  if (!baseUrl || !agentId) fail("usage: node converse.mjs MODE BASE_URL AGENT_ID");
  const conversation = await Conversation.startSession({ ...(await options()), ...callbacks });
  const socket = conversation.connection.socket; // the client's WebSocket (ws)
  socket.addEventListener("close", e => emit("socket_closed", { code: e.code, reason: e.reason, clean: e.wasClean }));
  emit("started", { type: conversation.type, protocol: socket.protocol,
                    input: conversation.connection.inputFormat, output: conversation.connection.outputFormat });
  const sentAt = seen.length; // an agent reply is a message after this point
  if (mode === "voice") {
    await waitFor("the microphone file played", l => l.event === "mic_done");
  } else {
    conversation.sendUserMessage(env.USER_TEXT || "hello");
    emit("sent", { text: env.USER_TEXT || "hello" });
  }
  if (mode === "tools") {
    const first = await waitFor("a client tool call", l => l.event === "tool_call" || l.event === "message");
    if (first.event === "message") fail(`the agent answered before calling a client tool: ${first.message}`);
  }
  await waitFor("the agent's reply", l => l.event === "message" && l.source === "ai" && seen.indexOf(l) >= sentAt);
  if (mode === "voice") await replyPlayed(sentAt);
  await conversation.endSession();
  await waitFor("the socket closed", l => l.event === "socket_closed");
  clearTimeout(timer);
  emit("done", { ok: true, status: conversation.status });
}

main().catch(error => fail(error?.stack || error));
