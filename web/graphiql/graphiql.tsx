import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';

const fetcher = createGraphiQLFetcher({ url: location.pathname.startsWith('/graphql') ? '/graphql' : '/graphql' });
createRoot(document.getElementById('graphiql')!).render(<GraphiQL fetcher={fetcher} />);
