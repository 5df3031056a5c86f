/**
 * The text side of iptables, byte-exact with iptables 1.8.9: the
 * `iptables-restore` tokenizer and parser, `iptables` command lines, and the
 * `iptables-save` printer, over the AST of `src/netfilter/ast.ts`.
 *
 * @module
 */

export { parseIptablesCommand, splitShellWords } from './command.js';
export { LogFlag, REJECT_WITH, limitPeriod, limitRateOf } from './extensions.js';
export { formatProbability, saveString, tokenizeIptablesArgs, type IptablesToken } from './lex.js';
export { parseRestore, type ParseRestoreOptions } from './restore.js';
export { BUILTIN_CHAINS, isTableName } from './rule.js';
export {
  formatSaveDate,
  printRule,
  printRuleSpec,
  printSave,
  saveChainOrder,
  type IptablesBackend,
  type PrintRuleOptions,
  type PrintSaveOptions,
} from './save.js';
export { parseRuleLine, restoreToSavedTables } from './convert.js';
