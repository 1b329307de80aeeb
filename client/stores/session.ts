import { onUnauthorized } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

export type SessionState = "unknown" | "signed-in" | "signed-out";

/**
 * Whether this tab holds a valid session. Any 401 from the API or an "unauthorized" close of the
 * socket means it does not: the app then shows how to sign in instead of a blank page.
 */
export class SessionStore {
  readonly state = new Store<SessionState>("unknown");

  constructor(socket: HiveSocket) {
    onUnauthorized(() => this.state.set("signed-out"));
    socket.state.subscribe((s) => {
      if (s.kind === "unauthorized") this.state.set("signed-out");
      else if (s.kind === "open") this.state.set("signed-in");
    });
  }

  /** The API answered a call that needs a session: we are signed in. */
  confirm(): void {
    if (this.state.value !== "signed-in") this.state.set("signed-in");
  }
}
