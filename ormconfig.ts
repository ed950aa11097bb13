import 'reflect-metadata';
import { loadConfig } from './src/config';
import { createDataSource } from './src/data-source';

/** The DataSource for the TypeORM CLI (`npm run typeorm -- migration:show`); the app builds the same one. */
export default createDataSource(loadConfig().database);
