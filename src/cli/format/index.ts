export { renderTemplate, parseTemplate, Template, type TemplateOptions } from './go-template.js';
export { tabwrite, tabwriteText, formatRows, headerName, displayWidth, type FormatOptions } from './table.js';
export { humanSize, bytesSize, humanDuration, parseBytes, fromHumanSize, parseDuration } from '../../util/go-units.js';
export { sprintf, sprint, sprintln, formatValue, formatFloat, goJSON, goQuote } from '../../util/gofmt.js';
