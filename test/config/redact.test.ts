import * as assert from "node:assert/strict";

import { redactUrl } from "../../config/redact";

describe("redactUrl", () => {
  for (const value of ["https://infisical.example.test/api", "prod", "/apps/anything-llm"]) {
    it(`leaves ${JSON.stringify(value)} unchanged`, () => {
      assert.equal(redactUrl(value), value);
    });
  }

  const cases: Array<[string, string]> = [
    ["https://user:hunter2@h.example.test/x", "https://***@h.example.test/x"],
    ["https://user:p@ss@h.example.test", "https://***@h.example.test"],
    ["https://user:pa/ss@h.example.test/x", "https://***@h.example.test/x"],
    ["user:hunter2@h.example.test", "***@h.example.test"],
    ["https://h.example.test/api/v1?key=sk-or-v1-abc", "https://h.example.test/api/v1?key=***"],
    [
      "https://h.example.test/ping?a=1&token=abc&flag",
      "https://h.example.test/ping?a=***&token=***&***",
    ],
    ["https://h.example.test/ping?sk-or-v1-abc", "https://h.example.test/ping?***"],
    ["https://h.example.test/ping#access_token=abc", "https://h.example.test/ping#***"],
    ["https://h.example.test/ping?token=abc#frag", "https://h.example.test/ping?token=***#***"],
    [
      "https://h.example.test/ping?mail=a@b.test&token=abc",
      "https://h.example.test/ping?mail=***&token=***",
    ],
    ["https://user:p?w@h.example.test", "https://***?***"],
    ["https://user:p#w@h.example.test", "https://***#***"],
  ];
  for (const [value, expected] of cases) {
    it(`masks ${JSON.stringify(value)}`, () => {
      assert.equal(redactUrl(value), expected);
    });
  }

  it("takes another mask", () => {
    assert.equal(
      redactUrl("https://h.example.test/ping?token=abc", "<value>"),
      "https://h.example.test/ping?token=<value>",
    );
  });
});
