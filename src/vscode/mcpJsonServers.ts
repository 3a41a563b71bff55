// The HTTP servers declared in an mcp.json text (JSON with comments and trailing commas). Pure, so it is tested alone.

export interface McpJsonServer {
  readonly name: string;
  readonly url: string;
  readonly source: string;
}

/** The `servers` entries with an http(s) url; stdio servers have nothing to sign in to. Malformed files yield none. */
export function httpServersOf(text: string, source: string): McpJsonServer[] {
  let document: unknown;
  try {
    document = JSON.parse(stripJsonComments(text));
  } catch {
    return [];
  }
  const servers = (document as { servers?: unknown } | null)?.servers;
  if (typeof servers !== 'object' || servers === null) return [];
  const result: McpJsonServer[] = [];
  for (const [name, value] of Object.entries(servers as Record<string, unknown>)) {
    const server = value as { url?: unknown; type?: unknown };
    if (typeof server?.url !== 'string' || !/^https?:\/\//i.test(server.url)) continue;
    if (server.type !== undefined && server.type !== 'http' && server.type !== 'sse') continue;
    result.push({ name, url: server.url, source });
  }
  return result;
}

const CLOSING_BRACKET_AHEAD = /\s*[}\]]/y;

function closesNext(text: string, from: number): boolean {
  CLOSING_BRACKET_AHEAD.lastIndex = from;
  return CLOSING_BRACKET_AHEAD.test(text);
}

/** mcp.json is JSON with comments and trailing commas; strips both, leaving strings alone. */
export function stripJsonComments(text: string): string {
  let output = '';
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    const next = text[index + 1];
    if (inString) {
      output += char;
      if (char === '\\') output += text[++index] ?? '';
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      output += char;
    } else if (char === ',' && closesNext(text, index + 1)) {
      // a trailing comma: dropped
    } else if (char === '/' && next === '/') {
      while (index < text.length && text[index] !== '\n') index++;
      output += '\n';
    } else if (char === '/' && next === '*') {
      index = text.indexOf('*/', index + 2);
      if (index === -1) break;
      index++;
    } else {
      output += char;
    }
  }
  return output;
}
