// Fills a `tracelens` launch configuration's `values` ("repr" or "structured") and `probes` from
// the tracelens.values and tracelens.probes settings when the configuration does not set them. A
// DebugConfigurationProvider beside the main one and HeatLaunchDefaults; it changes nothing else.

import * as vscode from 'vscode';
import { Settings } from '../constants';

export class ValuesLaunchDefaults implements vscode.DebugConfigurationProvider {
  resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    if (config.request !== 'launch') return config;
    const settings = vscode.workspace.getConfiguration();
    if (config.values === undefined) {
      const setting = settings.get<string>(Settings.Values);
      if (setting === 'repr' || setting === 'structured') config.values = setting;
    }
    if (config.probes === undefined) {
      const probes = settings.get<unknown>(Settings.Probes);
      if (Array.isArray(probes) && probes.every((p) => typeof p === 'string'))
        config.probes = probes;
    }
    return config;
  }
}
