import { describe, expect, it } from "vitest";
import { plainText } from "../../shared/plain-output.ts";

describe("output shown as plain text", () => {
  it("drops colours, links and cursor movement, keeping the words", () => {
    expect(plainText("\x1b[2m[hive] $ npm test\x1b[0m\n\x1b[1;31mERR!\x1b[22;39m failed\n")).toBe(
      "[hive] $ npm test\nERR! failed\n",
    );
    expect(plainText("see \x1b]8;;https://example.com\x07the docs\x1b]8;;\x07\x1b[K")).toBe("see the docs");
  });

  it("keeps what a line redrawn with carriage returns said last, and Windows line ends as lines", () => {
    expect(plainText("installing 10%\rinstalling 55%\rinstalling 100%\r\ndone\r\n")).toBe(
      "installing 100%\ndone\n",
    );
  });
});
