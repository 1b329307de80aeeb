import { Store } from "./store.ts";

/** The app's screens, one URL each, so a reload lands where the person was. */
export type Route =
  | { name: "home" }
  | { name: "new-cell"; workspaceId: string }
  | { name: "cell"; cellId: string }
  | { name: "timings"; cellId: string; step: string };

export function parseRoute(url: URL): Route {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "workspaces" && parts[1] && parts[2] === "new")
    return { name: "new-cell", workspaceId: parts[1] };
  if (parts[0] === "cells" && parts[1]) return { name: "cell", cellId: parts[1] };
  if (parts[0] === "timings") {
    return {
      name: "timings",
      cellId: url.searchParams.get("cell") ?? "",
      step: url.searchParams.get("step") ?? "",
    };
  }
  return { name: "home" };
}

export function hrefOf(route: Route): string {
  switch (route.name) {
    case "home":
      return "/";
    case "new-cell":
      return `/workspaces/${encodeURIComponent(route.workspaceId)}/new`;
    case "cell":
      return `/cells/${encodeURIComponent(route.cellId)}`;
    case "timings": {
      const q = new URLSearchParams();
      if (route.cellId) q.set("cell", route.cellId);
      if (route.step) q.set("step", route.step);
      return `/timings${q.size ? `?${q}` : ""}`;
    }
  }
}

/** The current route, kept in step with the address bar (history API, so back and forward work). */
export class Router {
  readonly route = new Store<Route>(parseRoute(new URL(location.href)));

  constructor() {
    addEventListener("popstate", () => this.route.set(parseRoute(new URL(location.href))));
  }

  go(route: Route, opts: { replace?: boolean } = {}): void {
    const href = hrefOf(route);
    if (href !== location.pathname + location.search) {
      if (opts.replace) history.replaceState(null, "", href);
      else history.pushState(null, "", href);
    }
    this.route.set(route);
  }
}
