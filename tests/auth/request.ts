import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): any;
}

/**
 * One HTTP request with exactly the headers given (fetch will not send a forged Host, and follows
 * redirects); what an attacker's page or a rebinding DNS name would make a browser send.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A fresh connection each time: a refused request's unread body must not spoil the next one.
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The `name=value` pair of the Set-Cookie header that sets `name`, ready to send back as a Cookie header. */
export function cookiePair(res: RawResponse, name: string): string | undefined {
  const set = res.headers["set-cookie"] ?? [];
  return set.map((c) => c.split(";")[0]!).find((c) => c.startsWith(`${name}=`));
}

export function setCookieHeader(res: RawResponse): string {
  return (res.headers["set-cookie"] ?? []).join("\n");
}
