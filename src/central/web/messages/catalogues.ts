// The page's languages and their message catalogues; Simplified Chinese is the default.
import { en, type MessageCatalogue } from './en.js';
import { zhCN } from './zh-CN.js';

export const DEFAULT_LANGUAGE = 'zh-CN';
export const CATALOGUES: Readonly<Record<string, MessageCatalogue>> = { 'zh-CN': zhCN, en };
export const LANGUAGES = Object.keys(CATALOGUES);
