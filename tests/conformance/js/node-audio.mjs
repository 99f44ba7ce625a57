// Voice mode of @elevenlabs/client under Node.
//
// The client's browser strategy (platform/web) needs getUserMedia, AudioContext and
// AudioWorklet, which Node lacks. The client lets a platform register its own voice
// session setup (React Native does so): this one creates the client's own WebSocket
// connection and wires it with the client's own attachInputToConnection /
// attachConnectionToOutput, so VoiceConversation, WebSocketConnection and the audio
// wiring are the client's code. Only the devices are stand-ins: a "microphone" that plays
// PCM16 mono from a file in real-time chunks (then silence, as a quiet room), and a
// "speaker" that keeps what it is given to play and reports playback like the worklet.

import { setSetupStrategy, createConnection } from "@elevenlabs/client/internal";
import { attachConnectionToOutput, attachInputToConnection } from "@elevenlabs/client/internal/unity";
import { DEFAULT_INPUT_CHUNK_DURATION_MS } from "@elevenlabs/client";

class FileMicrophone {
  constructor(pcm, format, emit) {
    this.pcm = pcm;
    this.format = format;
    this.emit = emit;
    this.listeners = new Set();
    this.muted = false;
    this.offset = 0;
    this.chunkBytes = Math.round(format.sampleRate * DEFAULT_INPUT_CHUNK_DURATION_MS / 1000) * 2;
    this.timer = setInterval(() => this.tick(), DEFAULT_INPUT_CHUNK_DURATION_MS);
  }

  tick() {
    if (this.listeners.size === 0) return;
    const chunk = new Uint8Array(this.chunkBytes); // silence once the file has played
    if (this.offset < this.pcm.length) {
      chunk.set(this.pcm.subarray(this.offset, this.offset + this.chunkBytes));
      this.offset += this.chunkBytes;
      if (this.offset >= this.pcm.length) this.emit("mic_done", { bytes: this.pcm.length });
    }
    if (this.muted) chunk.fill(0);
    // the shape the client's worklet posts: [pcm bytes, max volume]
    for (const listener of this.listeners) listener({ data: [chunk, 0] });
  }

  addListener(listener) { this.listeners.add(listener); }
  removeListener(listener) { this.listeners.delete(listener); }
  async close() { clearInterval(this.timer); this.listeners.clear(); }
  async setDevice() {}
  async setMuted(muted) { this.muted = muted; }
  isMuted() { return this.muted; }
  getAnalyser() { return undefined; }
  getVolume() { return 0; }
  getByteFrequencyData(buffer) { buffer.fill(0); }
}

class RecordingSpeaker {
  constructor(format, emit, onPlayed) {
    this.format = format;
    this.emit = emit;
    this.onPlayed = onPlayed;
    this.chunks = [];
    this.listeners = new Set();
    this.endsAt = 0;
    this.idle = null;
  }

  /** Called by the client's attachConnectionToOutput with each audio event's bytes. */
  playAudio(buffer) {
    const bytes = new Uint8Array(buffer);
    this.chunks.push(Buffer.from(bytes));
    const bytesPerSample = this.format.format === "ulaw" ? 1 : 2;
    const ms = bytes.length / bytesPerSample / this.format.sampleRate * 1000;
    this.endsAt = Math.max(this.endsAt, Date.now()) + ms;
    this.emit("played", { bytes: bytes.length });
    this.notify(false);
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.notify(true), Math.max(0, this.endsAt - Date.now()));
  }

  notify(finished) {
    if (finished) this.emit("playback", { finished, bytes: this.total() });
    for (const listener of this.listeners) listener({ data: { type: "process", finished } });
  }

  total() { return this.chunks.reduce((n, c) => n + c.length, 0); }
  interrupt() { this.emit("output_interrupted", {}); this.endsAt = Date.now(); }
  addListener(listener) { this.listeners.add(listener); }
  removeListener(listener) { this.listeners.delete(listener); }
  async close() { clearTimeout(this.idle); this.onPlayed(Buffer.concat(this.chunks)); }
  async setDevice() {}
  setVolume() {}
  getAnalyser() { return undefined; }
  getVolume() { return 0; }
  getByteFrequencyData(buffer) { buffer.fill(0); }
}

/** Register the Node voice session setup with the client (before startSession). */
export function nodeVoiceSetup({ pcm, onPlayed, emit }) {
  setSetupStrategy(async options => {
    const connection = await createConnection(options);
    const input = new FileMicrophone(pcm, connection.inputFormat, emit);
    const output = new RecordingSpeaker(connection.outputFormat, emit, onPlayed);
    const detachInput = attachInputToConnection(input, connection);
    const detachOutput = attachConnectionToOutput(connection, output);
    return {
      connection, input, output, playbackEventTarget: output,
      detach: async () => { detachInput(); detachOutput(); },
    };
  });
}
