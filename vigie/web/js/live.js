// The live channel (README: live protocol): WebSocket /api/v1/live with the token as a
// subprotocol, resume with ?after=<seq>, token refresh on 4401, a fresh read of /api/v1/status
// on resync. While the channel is down, the status is re-read every 30 s so the screen never
// freezes silently.
import * as auth from "./auth.js";
import * as api from "./api.js";

const POLL_MS = 30000;
const MAX_BACKOFF_MS = 30000;

export class Live {
  // handlers: snapshot(cameras), event(event), status(text)
  constructor(handlers) {
    this.handlers = handlers;
    this.seq = null;
    this.socket = null;
    this.backoff = 1000;
    this.stopped = false;
    this.poller = null;
    this.retry = null;
  }

  start() {
    this.stopped = false;
    this.reread();
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.poller);
    this.poller = null;
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  status(text) { if (this.handlers.status) this.handlers.status(text); }

  // Re-read the whole picture through the API (first load, resync, channel down).
  async reread() {
    try {
      const cameras = await api.json("/api/v1/status");
      if (!this.stopped) this.handlers.snapshot(cameras);
    } catch (error) {
      if (!this.stopped) this.status("Liaison perdue");  // not after a logout stopped us
    }
  }

  poll(on) {
    if (on && !this.poller) this.poller = setInterval(() => this.reread(), POLL_MS);
    if (!on && this.poller) { clearInterval(this.poller); this.poller = null; }
  }

  connect() {
    if (this.stopped || !auth.accessToken()) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.seq === null ? "" : `?after=${encodeURIComponent(this.seq)}`;
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/api/v1/live${query}`,
        ["vigie.v1", `bearer.${auth.accessToken()}`]);
    } catch (error) {
      this.later();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.backoff = 1000;
      this.poll(false);
      this.status("En direct");
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (close) => this.closed(socket, close.code);
  }

  receive(text) {
    let message;
    try { message = JSON.parse(text); } catch { return; }
    if (message.type === "snapshot") {
      this.seq = message.seq;
      this.handlers.snapshot(message.cameras);
    } else if (message.type === "heartbeat") {
      if (typeof message.seq === "number" && (this.seq === null || message.seq > this.seq)) {
        this.seq = message.seq;
      }
    } else if (message.type === "resync") {
      this.reread();  // the server closes with 4008 next; we resume from our last seq
    } else if (typeof message.seq === "number") {
      if (this.seq !== null && message.seq <= this.seq) return;  // replayed twice
      this.seq = message.seq;
      this.handlers.event(message);
    }
  }

  async closed(socket, code) {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.stopped) return;
    if (code === 4401) {
      try { await auth.refresh(); } catch { await auth.logout(); return; }
      this.connect();
      return;
    }
    if (code === 4403) {
      this.status("Flux en direct refusé");
      this.poll(true);
      return;
    }
    if (code === 4008) { this.connect(); return; }
    this.status("Actualisation toutes les 30 s");
    this.poll(true);
    this.later();
  }

  later() {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }
}
