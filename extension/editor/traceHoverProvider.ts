// Hovers on traced Python lines: the full return value and the call's arguments and qualname, or
// the exception raised there. Reads the EditorDecorator's per-file cache, so a hover costs no
// store query once the editor is drawn; the text itself comes from the pure decorationModel.

import * as vscode from 'vscode';
import { hoverMarkdown } from './decorationModel';
import type { FileAnnotations } from '../store/api';

export interface IAnnotationSource {
  annotationsFor(document: vscode.TextDocument): Promise<FileAnnotations>;
}

export class TraceHoverProvider implements vscode.HoverProvider {
  constructor(private readonly annotations: IAnnotationSource) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
  ): Promise<vscode.Hover | undefined> {
    const ann = await this.annotations.annotationsFor(document);
    const text = hoverMarkdown(ann, position.line + 1);
    if (!text) return undefined;
    const markdown = new vscode.MarkdownString(text);
    markdown.supportHtml = false;
    markdown.isTrusted = false;
    return new vscode.Hover(markdown, document.lineAt(position.line).range);
  }
}
