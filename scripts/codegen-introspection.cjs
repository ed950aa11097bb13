// A GraphQL Code Generator plugin: the schema as the dashboard's normalized cache
// (@urql/exchange-graphcache) needs it: its types, fields and unions, without the scalars,
// enums, inputs and directives it does not read, so that it can match fragments on
// RecipientOption and serve partial results.
const { getIntrospectedSchema, minifyIntrospectionQuery } = require('@urql/introspection');

module.exports = {
  plugin(schema) {
    const minified = minifyIntrospectionQuery(getIntrospectedSchema(schema));
    return `// Generated from schema.graphql by scripts/codegen-introspection.cjs: do not edit.\nexport default ${JSON.stringify(minified)};\n`;
  },
};
