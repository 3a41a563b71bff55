// Finds and reads the editor's own mcp.json files (user and workspace), so their HTTP servers can be added.
import * as vscode from 'vscode';
import { httpServersOf, type McpJsonServer } from './mcpJsonServers';

/** The user mcp.json sits in the User folder, two levels above this extension's global storage. */
export function mcpJsonLocations(globalStorageUri: vscode.Uri): vscode.Uri[] {
  const userFile = vscode.Uri.joinPath(globalStorageUri, '..', '..', 'mcp.json');
  const workspaceFiles = (vscode.workspace.workspaceFolders ?? []).map((folder) => vscode.Uri.joinPath(folder.uri, '.vscode', 'mcp.json'));
  return [userFile, ...workspaceFiles];
}

export async function readMcpJsonServers(locations: readonly vscode.Uri[]): Promise<McpJsonServer[]> {
  const found: McpJsonServer[] = [];
  for (const location of locations) {
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(location));
    } catch {
      continue; // no such file
    }
    found.push(...httpServersOf(text, location.fsPath));
  }
  return found;
}
