// Fills a `tracelens` launch configuration's `values` ("repr" or "structured") from the
// tracelens.values setting when the configuration does not set it. A DebugConfigurationProvider
// beside the main one and HeatLaunchDefaults; it changes nothing else in the configuration.

import * as vscode from 'vscode';
import { Settings } from '../constants';

export class ValuesLaunchDefaults implements vscode.DebugConfigurationProvider {
  resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    if (config.request !== 'launch' || config.values !== undefined) return config;
    const setting = vscode.workspace.getConfiguration().get<string>(Settings.Values);
    if (setting === 'repr' || setting === 'structured') config.values = setting;
    return config;
  }
}
