import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller';

/** The support console at /console: a static page that calls the support and audit routes. */
@Module({ controllers: [ConsoleController] })
export class ConsoleModule {}
