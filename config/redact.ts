/** The text that replaces a masked part of a displayed value. */
export const redactedMask = "***";

/**
 * Masks the parts of a URL that can carry a secret: the user info, the value of each query
 * parameter and the fragment. It works on text, so a value that does not parse as a URL is masked
 * too, and text without "@", "?" or "#" comes back unchanged.
 */
export function redactUrl(value: string, mask: string = redactedMask): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value)?.[0] ?? "";
  const rest = value.slice(scheme.length);
  const suffixStart = rest.search(/[?#]/);
  const head = suffixStart < 0 ? rest : rest.slice(0, suffixStart);
  const suffix = suffixStart < 0 ? "" : rest.slice(suffixStart);

  const userInfoEnd = head.lastIndexOf("@");
  if (userInfoEnd < 0 && suffix.includes("@") && !head.includes("/")) {
    // A "?" or "#" typed into a password ends the host part early, so an "@" after it may still
    // close user info. Both parts are masked then.
    return `${scheme}${mask}${suffix[0]}${mask}`;
  }
  const shownHead = userInfoEnd < 0 ? head : `${mask}${head.slice(userInfoEnd)}`;
  return `${scheme}${shownHead}${redactQueryAndFragment(suffix, mask)}`;
}

/** Masks every query value and the whole fragment of a suffix that starts with "?" or "#". */
function redactQueryAndFragment(suffix: string, mask: string): string {
  const fragmentStart = suffix.indexOf("#");
  const query = fragmentStart < 0 ? suffix : suffix.slice(0, fragmentStart);
  const fragment = fragmentStart < 0 ? "" : `#${mask}`;
  if (query === "") {
    return fragment;
  }
  const parameters = query
    .slice(1)
    .split("&")
    .map((parameter) => redactParameter(parameter, mask));
  return `?${parameters.join("&")}${fragment}`;
}

/** Masks the value of a `name=value` parameter, or the whole parameter when it has no "=". */
function redactParameter(parameter: string, mask: string): string {
  if (parameter === "") {
    return "";
  }
  const separator = parameter.indexOf("=");
  return separator < 0 ? mask : `${parameter.slice(0, separator)}=${mask}`;
}
